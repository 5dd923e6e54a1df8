// OathBulk.Native: the module's only compiled code. It runs the oathbulk binary and turns its
// JSON-lines stdout into typed PSObjects on a background thread, so the PowerShell side only
// moves ready objects down the pipeline. Compiled once by Add-Type and cached by source hash
// (see Initialize-OathBulkNative.ps1).
//
// Record mapping (documented in powershell/README.md):
//   * each record type is a class OathBulk.<PascalCase type> (OathBulk.Token, OathBulk.RowError),
//     which is also the PowerShell type name the format views use;
//   * every top-level JSON field is a property named in PascalCase (`time_interval` ->
//     `TimeInterval`, `type` -> `Type`, `http_status` -> `HttpStatus`); absent optional fields
//     are $null; fields this module does not know yet are added as note properties;
//   * nested objects (`extra`, `counts`, `fatal`) become PSCustomObjects whose keys are kept
//     verbatim (they are data: CSV headers, status codes);
//   * integers -> [long]; `lines` -> [long[]]; `time`/`last_used` -> UTC [DateTime]; an Otp's `at` -> [DateTimeOffset];
//   * records that carry a CSV line have a hidden `Path` property: the source CSV;
//   * `user.tokens` -> OathBulk.UserToken objects; `check` -> OathBulk.PreflightCheck with the
//     PowerShell type name OathBulk.Check (C# forbids a property named like its class).
using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Threading;

namespace OathBulk
{
    // One class per record type (src/record.rs). A compiled type is ~10x cheaper to create than a
    // PSCustomObject with note properties, which is what lets the module stream 100k rows/s.
    // The .NET full name is the PowerShell type name (OathBulk.Token), used by the format views.
    // Optional fields the binary omitted stay $null, so every object of a type has the same
    // properties (Export-Csv and Format-Table take their columns from the first object).

    public abstract class Record
    {
        /// <summary>The record's `type` (token, otp, row_error, …). Hidden: the .NET type
        /// already says it, and Export-Csv would add it as a noise column.</summary>
        [Hidden] public string Type { get; set; }
    }

    /// <summary>Records that name a CSV line; Path is the CSV (hidden: for pipeline binding).</summary>
    public abstract class RowRecord : Record
    {
        [Hidden] public string Path { get; set; }
    }

    public sealed class Token : RowRecord
    {
        public long Line { get; set; }
        public string Upn { get; set; }
        public string Serial { get; set; }
        public string Manufacturer { get; set; }
        public string Model { get; set; }
        public long TimeInterval { get; set; }
        public string Hash { get; set; }
        public string DisplayName { get; set; }
        public long? SecretBits { get; set; }
        public string Secret { get; set; }
        /// <summary>The CSV's other columns. Hidden: Export-Csv would flatten it to "@{…}".</summary>
        [Hidden] public PSObject Extra { get; set; }
        public override string ToString() { return Serial; }
    }

    public sealed class Otp : RowRecord
    {
        public long Line { get; set; }
        public string Upn { get; set; }
        public string Serial { get; set; }
        public string Code { get; set; }
        public long Step { get; set; }
        public long TimeInterval { get; set; }
        public string Hash { get; set; }
        public long ValidFor { get; set; }
        /// <summary>The instant the code is for (the binary's Unix seconds), as -At takes it.</summary>
        public DateTimeOffset? At { get; set; }
        public string Secret { get; set; }
        public override string ToString() { return Code; }
    }

    public sealed class RowError : RowRecord
    {
        public long Line { get; set; }
        public string Code { get; set; }
        public string Message { get; set; }
        public string Field { get; set; }
        public string Upn { get; set; }
        public string Serial { get; set; }
        public override string ToString() { return Message; }
    }

    public sealed class Finding : RowRecord
    {
        public string Severity { get; set; }
        public string Code { get; set; }
        public string Message { get; set; }
        public long[] Lines { get; set; }
        public string Upn { get; set; }
        public string Serial { get; set; }
        public override string ToString() { return Message; }
    }

    public sealed class Activation : RowRecord
    {
        public long Line { get; set; }
        public string Upn { get; set; }
        public string Serial { get; set; }
        public string Status { get; set; }
        public string Action { get; set; }
        public long Attempts { get; set; }
        public string DeviceId { get; set; }
        public long? Step { get; set; }
        public string AssignedTo { get; set; }
        public long? HttpStatus { get; set; }
        public string ErrorCode { get; set; }
        public string ErrorMessage { get; set; }
        public DateTime? Time { get; set; }
        public override string ToString() { return Serial + ": " + Status; }
    }

    public sealed class TenantToken : Record
    {
        public string Id { get; set; }
        public string Serial { get; set; }
        public string Status { get; set; }
        public string Manufacturer { get; set; }
        public string Model { get; set; }
        public long? TimeInterval { get; set; }
        public string Hash { get; set; }
        public string DisplayName { get; set; }
        public string AssignedToId { get; set; }
        public string AssignedTo { get; set; }
        public string AssignedUpn { get; set; }
        public DateTime? LastUsed { get; set; }
        public override string ToString() { return Serial; }
    }

    /// <summary>One token of a `user` record. Structure, not data: its keys are PascalCase.</summary>
    public sealed class UserToken
    {
        public string Serial { get; set; }
        public long Line { get; set; }
        /// <summary>With -WithTenant: available, assigned, activated, failedActivation, not_found.</summary>
        public string Status { get; set; }
        /// <summary>With -WithTenant: who holds it, when not this user.</summary>
        public string AssignedTo { get; set; }
        public override string ToString()
        {
            if (Status == null) return Serial;
            return Serial + " (" + Status + (AssignedTo != null ? ": " + AssignedTo : "") + ")";
        }
    }

    /// <summary>One user of the CSV (`users`). No Path: piping it into a row cmdlet must not
    /// select the whole file.</summary>
    /// <summary>A user's tokens: a list (Count, [i], enumerable) whose text is its serials and
    /// statuses, so Export-Csv and Format-Table show values, not a type name.</summary>
    public sealed class UserTokenList : System.Collections.ObjectModel.Collection<PSObject>
    {
        public UserTokenList(IList<PSObject> items) : base(items) { }
        public override string ToString()
        {
            var parts = new List<string>(Count);
            foreach (var t in this) parts.Add(t == null ? "" : t.ToString());
            return string.Join("; ", parts);
        }
    }

    public sealed class User : Record
    {
        public string Upn { get; set; }
        public long Count { get; set; }
        /// <summary>OathBulk.UserToken objects (fields added later become note properties).</summary>
        public UserTokenList Tokens { get; set; }
        public string Warning { get; set; }
        public override string ToString() { return Upn; }
    }

    /// <summary>One preflight check (`doctor`). PowerShell type name OathBulk.Check (C# does
    /// not allow the property Check on a class named Check).</summary>
    public sealed class PreflightCheck : Record
    {
        public string Check { get; set; }
        public string Status { get; set; }
        public string Message { get; set; }
        public string Fix { get; set; }
        public override string ToString() { return Check + ": " + Status; }
    }

    /// <summary>One row's result in `import` (seed file -> tenant inventory).</summary>
    public sealed class Import : RowRecord
    {
        public long Line { get; set; }
        public string Upn { get; set; }
        public string Serial { get; set; }
        public string Status { get; set; }
        public string DeviceId { get; set; }
        public bool Assigned { get; set; }
        public long? HttpStatus { get; set; }
        public string ErrorCode { get; set; }
        public string ErrorMessage { get; set; }
        public DateTime? Time { get; set; }
        public override string ToString() { return Serial + ": " + Status; }
    }

    /// <summary>One lifecycle change (`deactivate`, `unassign`, `remove`, `undo`). No Path: for
    /// undo, Line is a journal line, not a CSV line.</summary>
    public sealed class Change : Record
    {
        public string Operation { get; set; }
        public string Status { get; set; }
        public string Serial { get; set; }
        public string Upn { get; set; }
        public string DeviceId { get; set; }
        public long? Line { get; set; }
        public string Reason { get; set; }
        public long? HttpStatus { get; set; }
        public string ErrorCode { get; set; }
        public string ErrorMessage { get; set; }
        public DateTime? Time { get; set; }
        public override string ToString() { return Operation + " " + Serial + ": " + Status; }
    }

    public sealed class Warning : Record
    {
        public string Code { get; set; }
        public string Message { get; set; }
        public override string ToString() { return Message; }
    }

    public sealed class Progress : Record
    {
        public string Phase { get; set; }
        public long Done { get; set; }
        public long? Total { get; set; }
        public string Message { get; set; }
    }

    public sealed class Diagnostic : Record
    {
        public string Level { get; set; }
        public string Message { get; set; }
        public string Code { get; set; }
        public override string ToString() { return Message; }
    }

    public sealed class Simulator : Record
    {
        public string Listen { get; set; }
        public string GraphUrl { get; set; }
        public string PortalUrl { get; set; }
        public string AuthorityUrl { get; set; }
        public long Devices { get; set; }
        public long Users { get; set; }
    }

    /// <summary>`status`: one token (or one user without any) as a helpdesk needs it.</summary>
    public sealed class TokenStatus : Record
    {
        public string Query { get; set; }
        public string Status { get; set; }
        public string NextStep { get; set; }
        public string Serial { get; set; }
        public string DeviceId { get; set; }
        public string Upn { get; set; }
        public DateTime? LastUsed { get; set; }
        public long? Line { get; set; }
        public long? Methods { get; set; }
        public long? MethodsLimit { get; set; }
        public override string ToString() { return Query + ": " + Status; }
    }

    /// <summary>`run_event`: a journal's mark (throttled, resumed) that `report` reads.</summary>
    public sealed class RunEvent : Record
    {
        public string Event { get; set; }
        public DateTime Time { get; set; }
        public string Command { get; set; }
        public long? HttpStatus { get; set; }
        public long? RetryAfterMs { get; set; }
    }

    public sealed class Summary : Record
    {
        public string Command { get; set; }
        public long Rows { get; set; }
        public long Ok { get; set; }
        public long Errors { get; set; }
        public long? Filtered { get; set; }
        public PSObject Counts { get; set; }
        public long ElapsedMs { get; set; }
        public long ExitCode { get; set; }
        public PSObject Fatal { get; set; }
        public long? Requests { get; set; }
        public long? Retries { get; set; }
        public long? Throttled { get; set; }
        public long? ClockOffsetMs { get; set; }
        public string Backend { get; set; }
        public bool? DryRun { get; set; }
        public double? Pace { get; set; }
    }
}

namespace OathBulk.Native
{
    /// <summary>JSON line -> typed record (wrapped in a PSObject).</summary>
    public static class RecordConverter
    {
        sealed class Slot
        {
            public Action<object, object> Set;
            public Func<object, object> Convert;
        }

        // (record, value) => ((T)record).Property = (TProperty)value, compiled once per property.
        static Action<object, object> CompileSetter(PropertyInfo p)
        {
            var target = System.Linq.Expressions.Expression.Parameter(typeof(object), "target");
            var value = System.Linq.Expressions.Expression.Parameter(typeof(object), "value");
            var assign = System.Linq.Expressions.Expression.Assign(
                System.Linq.Expressions.Expression.Property(System.Linq.Expressions.Expression.Convert(target, p.DeclaringType), p),
                System.Linq.Expressions.Expression.Convert(value, p.PropertyType));
            return System.Linq.Expressions.Expression.Lambda<Action<object, object>>(assign, target, value).Compile();
        }

        sealed class Shape
        {
            public Func<OathBulk.Record> Create;
            public Dictionary<string, Slot> Slots;
            /// <summary>PowerShell type name when it is not the class's full name.</summary>
            public string TypeName;
        }

        static readonly ConcurrentDictionary<string, string> PropertyNames = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        static readonly Dictionary<string, Shape> Shapes = BuildShapes();

        static Shape ShapeOf<T>(string typeName = null) where T : OathBulk.Record, new()
        {
            var slots = new Dictionary<string, Slot>(StringComparer.Ordinal);
            foreach (var p in typeof(T).GetProperties(BindingFlags.Instance | BindingFlags.Public))
            {
                if (!p.CanWrite || p.Name == "Path") continue;
                slots[ToSnakeCase(p.Name)] = new Slot { Set = CompileSetter(p), Convert = ConverterFor(p.PropertyType) };
            }
            return new Shape { Create = () => new T(), Slots = slots, TypeName = typeName };
        }

        static Dictionary<string, Shape> BuildShapes()
        {
            return new Dictionary<string, Shape>(StringComparer.Ordinal)
            {
                { "token", ShapeOf<OathBulk.Token>() },
                { "otp", ShapeOf<OathBulk.Otp>() },
                { "row_error", ShapeOf<OathBulk.RowError>() },
                { "finding", ShapeOf<OathBulk.Finding>() },
                { "activation", ShapeOf<OathBulk.Activation>() },
                { "tenant_token", ShapeOf<OathBulk.TenantToken>() },
                { "warning", ShapeOf<OathBulk.Warning>() },
                { "progress", ShapeOf<OathBulk.Progress>() },
                { "diagnostic", ShapeOf<OathBulk.Diagnostic>() },
                { "user", ShapeOf<OathBulk.User>() },
                { "check", ShapeOf<OathBulk.PreflightCheck>("OathBulk.Check") },
                { "import", ShapeOf<OathBulk.Import>() },
                { "change", ShapeOf<OathBulk.Change>() },
                { "simulator", ShapeOf<OathBulk.Simulator>() },
                { "token_status", ShapeOf<OathBulk.TokenStatus>() },
                { "run_event", ShapeOf<OathBulk.RunEvent>() },
                { "summary", ShapeOf<OathBulk.Summary>() },
            };
        }

        static Func<object, object> ConverterFor(Type t)
        {
            var u = Nullable.GetUnderlyingType(t) ?? t;
            if (u == typeof(long)) return v => v is long ? v : (v is double ? (object)System.Convert.ToInt64((double)v) : (v == null ? null : (object)System.Convert.ToInt64(v, CultureInfo.InvariantCulture)));
            if (u == typeof(string)) return v => v == null ? null : (v as string ?? System.Convert.ToString(v, CultureInfo.InvariantCulture));
            if (u == typeof(double)) return v => v == null ? null : (object)System.Convert.ToDouble(v, CultureInfo.InvariantCulture);
            if (u == typeof(bool)) return v => v == null ? (t == u ? (object)false : null) : (object)System.Convert.ToBoolean(v, CultureInfo.InvariantCulture);
            if (t == typeof(UserTokenList)) return ToUserTokens;
            // Times are UTC [datetime]s: sortable, and Export-Csv writes them like any date.
            if (u == typeof(DateTime)) return v =>
            {
                DateTimeOffset d;
                var s = v as string;
                return s != null && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out d) ? (object)d.UtcDateTime : null;
            };
            if (u == typeof(DateTimeOffset)) return v =>
            {
                // Unix seconds (an Otp's `at`) or an RFC 3339 string.
                if (v is long || v is double || v is int) return (object)DateTimeOffset.FromUnixTimeSeconds(System.Convert.ToInt64(v, CultureInfo.InvariantCulture));
                DateTimeOffset d;
                var s = v as string;
                return s != null && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out d) ? (object)d : null;
            };
            if (u == typeof(long[])) return v =>
            {
                var a = v as object[];
                if (a == null) return null;
                var r = new long[a.Length];
                for (int i = 0; i < a.Length; i++) r[i] = System.Convert.ToInt64(a[i], CultureInfo.InvariantCulture);
                return r;
            };
            return v => v;
        }

        /// <summary>`tokens` of a `user` record -> OathBulk.UserToken objects.</summary>
        static object ToUserTokens(object v)
        {
            var a = v as object[];
            if (a == null) return null;
            var r = new PSObject[a.Length];
            for (int i = 0; i < a.Length; i++)
            {
                var t = new OathBulk.UserToken();
                var wrapped = new PSObject(t);
                var nested = a[i] as PSObject;
                if (nested != null)
                {
                    foreach (var p in nested.Properties)
                    {
                        switch (p.Name)
                        {
                            case "serial": t.Serial = p.Value == null ? null : System.Convert.ToString(p.Value, CultureInfo.InvariantCulture); break;
                            case "line": t.Line = p.Value == null ? 0 : System.Convert.ToInt64(p.Value, CultureInfo.InvariantCulture); break;
                            case "status": t.Status = p.Value as string; break;
                            case "assigned_to": t.AssignedTo = p.Value as string; break;
                            default: wrapped.Properties.Add(new PSNoteProperty(ToPascalCase(p.Name), p.Value)); break;
                        }
                    }
                }
                r[i] = wrapped;
            }
            return new UserTokenList(r);
        }

        /// <summary>`time_interval` -> `TimeInterval` (unknown fields keep this mapping too).</summary>
        public static string ToPascalCase(string snake)
        {
            return PropertyNames.GetOrAdd(snake, s =>
            {
                var sb = new StringBuilder(s.Length);
                bool upper = true;
                foreach (char c in s)
                {
                    if (c == '_' || c == '-' || c == ' ') { upper = true; continue; }
                    sb.Append(upper ? char.ToUpperInvariant(c) : c);
                    upper = false;
                }
                return sb.ToString();
            });
        }

        /// <summary>`TimeInterval` -> `time_interval`.</summary>
        public static string ToSnakeCase(string pascal)
        {
            var sb = new StringBuilder(pascal.Length + 4);
            for (int i = 0; i < pascal.Length; i++)
            {
                char c = pascal[i];
                if (char.IsUpper(c) && i > 0) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            return sb.ToString();
        }

        /// <summary>Parses one JSON text (a stderr line); null when it is not a JSON object.</summary>
        public static PSObject ParseText(string text)
        {
            try
            {
                string type, status;
                return Parse(Encoding.UTF8.GetBytes(text), null, out type, out status);
            }
            catch { return null; }
        }

        /// <summary>Parses one record. <paramref name="recordType"/> gets its `type`.</summary>
        public static PSObject Parse(ReadOnlySpan<byte> json, string sourcePath, out string recordType, out string status)
        {
            recordType = null;
            status = null;
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = false });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new FormatException("not a JSON object");
            var names = new List<string>(16);
            var values = new List<object>(16);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString();
                reader.Read();
                object value = ReadValue(ref reader);
                if (name == "type") recordType = value as string;
                else if (name == "status") status = value as string;
                names.Add(name);
                values.Add(value);
            }
            if (reader.TokenType != JsonTokenType.EndObject)
                throw new FormatException("truncated JSON object");

            Shape shape;
            if (recordType != null && Shapes.TryGetValue(recordType, out shape))
            {
                var record = shape.Create();
                List<int> unknown = null;
                for (int i = 0; i < names.Count; i++)
                {
                    Slot slot;
                    if (shape.Slots.TryGetValue(names[i], out slot))
                        slot.Set(record, slot.Convert(values[i]));
                    else
                        (unknown ?? (unknown = new List<int>())).Add(i);
                }
                var rowRecord = record as OathBulk.RowRecord;
                if (rowRecord != null) rowRecord.Path = sourcePath;
                var wrapped = new PSObject(record);
                if (shape.TypeName != null) wrapped.TypeNames.Insert(0, shape.TypeName);
                // Fields this module does not know yet are kept as note properties.
                if (unknown != null)
                    foreach (int i in unknown)
                        wrapped.Properties.Add(new PSNoteProperty(ToPascalCase(names[i]), values[i]));
                return wrapped;
            }
            var obj = new PSObject();
            for (int i = 0; i < names.Count; i++)
                obj.Properties.Add(new PSNoteProperty(ToPascalCase(names[i]), values[i]));
            obj.TypeNames.Insert(0, "OathBulk." + ToPascalCase(recordType ?? "Unknown"));
            return obj;
        }

        static object ReadValue(ref Utf8JsonReader reader)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String: return reader.GetString();
                case JsonTokenType.Number:
                    {
                        long l;
                        if (reader.TryGetInt64(out l)) return l;
                        return reader.GetDouble();
                    }
                case JsonTokenType.True: return true;
                case JsonTokenType.False: return false;
                case JsonTokenType.Null: return null;
                case JsonTokenType.StartArray:
                    {
                        var list = new List<object>();
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                            list.Add(ReadValue(ref reader));
                        return list.ToArray();
                    }
                case JsonTokenType.StartObject:
                    {
                        // Nested objects are data (CSV headers, status codes): keys kept verbatim.
                        var nested = new PSObject();
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            string key = reader.GetString();
                            reader.Read();
                            nested.Properties.Add(new PSNoteProperty(key, ReadValue(ref reader)));
                        }
                        return nested;
                    }
                default:
                    throw new FormatException("unexpected JSON token " + reader.TokenType);
            }
        }
    }

    /// <summary>What <see cref="NativeSession.Read"/> hands the script: plain records to write as
    /// they are, then at most one record that needs handling (row error, summary, warning, …).</summary>
    public sealed class Batch
    {
        public readonly List<PSObject> Records = new List<PSObject>();
        public PSObject Special;
        public string SpecialType;
        public string SpecialStatus;
    }

    struct Item
    {
        public PSObject Obj;
        public string Type;
        public string Status;
        public bool Special;
    }

    /// <summary>One run of the binary: the process, a bounded queue of parsed stdout records
    /// (back-pressure keeps memory flat) and a queue of stderr lines.</summary>
    public sealed class NativeSession : IDisposable
    {
        // Result records whose status is an error: written to the pipeline AND as an error record.
        static readonly Dictionary<string, HashSet<string>> ErrorStatuses = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal)
        {
            { "activation", new HashSet<string>(StringComparer.Ordinal) { "conflict", "not_found", "failed", "not_attempted" } },
            { "import", new HashSet<string>(StringComparer.Ordinal) { "failed", "not_attempted" } },
            { "change", new HashSet<string>(StringComparer.Ordinal) { "refused", "not_found", "failed", "not_attempted" } },
        };

        readonly Process process;
        readonly BlockingCollection<Item> queue;
        readonly ConcurrentQueue<string> stderr = new ConcurrentQueue<string>();
        readonly HashSet<string> passTypes;
        readonly string sourcePath;
        readonly string[] redactions;
        readonly CancellationTokenSource cancel = new CancellationTokenSource();
        readonly Thread stdoutThread;
        readonly Thread stderrThread;
        readonly int batchSize;
        volatile bool stopped;
        volatile bool draining;
        int disposed;

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        static extern int SysKill(int pid, int signal);
        const int SIGINT = 2;

        /// <summary>Set when the stdout reader failed (unparseable line, …).</summary>
        public Exception ReaderError { get; private set; }
        public int Records { get; private set; }
        public Process Process { get { return process; } }
        public bool Stopped { get { return stopped; } }
        public bool IsCompleted { get { return queue.IsCompleted; } }
        public bool HasStderr { get { return !stderr.IsEmpty; } }

        public NativeSession(string fileName, IList<string> arguments, IDictionary environment, IList<string> redact,
                             IList<string> passTypes, string sourcePath, string stdinText, bool keepStdinOpen,
                             int capacity, int batchSize)
        {
            this.passTypes = new HashSet<string>(passTypes ?? new string[0], StringComparer.Ordinal);
            this.sourcePath = sourcePath;
            this.batchSize = batchSize > 0 ? batchSize : 256;
            var r = new List<string>();
            if (redact != null) foreach (var s in redact) if (!string.IsNullOrEmpty(s)) r.Add(s);
            redactions = r.ToArray();
            queue = new BlockingCollection<Item>(capacity > 0 ? capacity : 1024);

            var psi = new ProcessStartInfo(fileName)
            {
                UseShellExecute = false,
                CreateNoWindow = true,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = new UTF8Encoding(false),
                StandardErrorEncoding = new UTF8Encoding(false),
            };
            foreach (var a in arguments) psi.ArgumentList.Add(a);
            if (environment != null)
            {
                foreach (DictionaryEntry e in environment)
                {
                    string key = e.Key.ToString();
                    if (e.Value == null) psi.Environment.Remove(key);
                    else psi.Environment[key] = e.Value.ToString();
                }
            }
            process = new Process { StartInfo = psi };
            process.Start();

            stdoutThread = new Thread(ReadStdout) { IsBackground = true, Name = "oathbulk-stdout" };
            stderrThread = new Thread(ReadStderr) { IsBackground = true, Name = "oathbulk-stderr" };
            stdoutThread.Start();
            stderrThread.Start();

            if (stdinText != null)
            {
                var stdinText2 = stdinText;
                var t = new Thread(() =>
                {
                    try
                    {
                        var bytes = new UTF8Encoding(false).GetBytes(stdinText2);
                        process.StandardInput.BaseStream.Write(bytes, 0, bytes.Length);
                        process.StandardInput.Close();
                    }
                    catch { }
                }) { IsBackground = true, Name = "oathbulk-stdin" };
                t.Start();
            }
            else if (!keepStdinOpen)
            {
                try { process.StandardInput.Close(); } catch { }
            }
        }

        /// <summary>Ends stdin (the simulator stops on EOF).</summary>
        public void CloseStdin()
        {
            try { process.StandardInput.Close(); } catch { }
        }

        void Enqueue(PSObject obj, string type, string status)
        {
            // Interrupted: nobody reads the queue any more, but stdout must keep draining so
            // the binary never blocks on a full pipe while it settles and journals.
            if (draining) return;
            HashSet<string> errorStatuses;
            bool special = type == null || !passTypes.Contains(type)
                || (status != null && ErrorStatuses.TryGetValue(type, out errorStatuses) && errorStatuses.Contains(status));
            queue.Add(new Item { Obj = obj, Type = type, Status = status, Special = special }, cancel.Token);
            Records++;
        }

        void ParseLine(byte[] buf, int start, int length)
        {
            // Trim CR and whitespace; skip blank lines.
            while (length > 0 && (buf[start + length - 1] == (byte)'\r' || buf[start + length - 1] == (byte)' ')) length--;
            while (length > 0 && buf[start] == (byte)' ') { start++; length--; }
            if (length == 0) return;
            var span = new ReadOnlySpan<byte>(buf, start, length);
            string type, status;
            PSObject obj;
            try
            {
                obj = RecordConverter.Parse(span, sourcePath, out type, out status);
            }
            catch (Exception e)
            {
                // Not a record: surface it as text on the diagnostics path (never as data).
                string text = Encoding.UTF8.GetString(buf, start, length);
                stderr.Enqueue(Redact("oathbulk: unparseable output line (" + e.Message + "): " + text));
                return;
            }
            Enqueue(obj, type, status);
        }

        void ReadStdout()
        {
            try
            {
                var stream = process.StandardOutput.BaseStream;
                byte[] buf = new byte[1 << 16];
                int filled = 0;
                while (true)
                {
                    if (filled == buf.Length) Array.Resize(ref buf, buf.Length * 2);
                    int n = stream.Read(buf, filled, buf.Length - filled);
                    if (n <= 0) break;
                    int scanFrom = filled;
                    filled += n;
                    int lineStart = 0;
                    int nl;
                    while ((nl = Array.IndexOf(buf, (byte)'\n', scanFrom, filled - scanFrom)) >= 0)
                    {
                        ParseLine(buf, lineStart, nl - lineStart);
                        lineStart = nl + 1;
                        scanFrom = lineStart;
                    }
                    if (lineStart > 0)
                    {
                        Buffer.BlockCopy(buf, lineStart, buf, 0, filled - lineStart);
                        filled -= lineStart;
                    }
                }
                if (filled > 0) ParseLine(buf, 0, filled);
            }
            catch (OperationCanceledException) { }
            catch (ObjectDisposedException) { }
            catch (Exception e)
            {
                if (!stopped) ReaderError = e;
            }
            finally
            {
                try { queue.CompleteAdding(); } catch { }
            }
        }

        void ReadStderr()
        {
            try
            {
                string line;
                var reader = process.StandardError;
                while ((line = reader.ReadLine()) != null)
                {
                    if (line.Length == 0) continue;
                    // Not redacted here: a short secret would corrupt the JSON (`t` in "type").
                    // The reader parses first and redacts the human-readable text (Redact).
                    stderr.Enqueue(line);
                }
            }
            catch { }
        }

        /// <summary>Text with every secret replaced by ***, matched as a whole word (not inside
        /// a longer run of token characters), so a one-character token does not mangle words.</summary>
        public string Redact(string text)
        {
            if (text == null) return null;
            foreach (var secret in redactions)
            {
                int at = text.IndexOf(secret, StringComparison.Ordinal);
                if (at < 0) continue;
                var sb = new StringBuilder(text.Length);
                int from = 0;
                while (at >= 0)
                {
                    int end = at + secret.Length;
                    // '=' only ends a token (base64 padding): `type=t` has the word t.
                    bool whole = (at == 0 || !IsTokenChar(text[at - 1]) || text[at - 1] == '=') && (end == text.Length || !IsTokenChar(text[end]));
                    if (whole)
                    {
                        sb.Append(text, from, at - from).Append("***");
                        from = end;
                    }
                    at = text.IndexOf(secret, whole ? end : at + 1, StringComparison.Ordinal);
                }
                sb.Append(text, from, text.Length - from);
                text = sb.ToString();
            }
            return text;
        }

        // Characters of bearer tokens (JWT, base64url, opaque tokens).
        static bool IsTokenChar(char c)
        {
            return char.IsLetterOrDigit(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
        }

        /// <summary>Waits up to <paramref name="timeoutMs"/> for the next record, then takes
        /// whatever else is ready, stopping after the first record that needs handling.
        /// Null on timeout or when stdout has ended (see <see cref="IsCompleted"/>).</summary>
        public Batch Read(int timeoutMs)
        {
            Item item;
            try
            {
                if (!queue.TryTake(out item, timeoutMs)) return null;
            }
            catch (ObjectDisposedException) { return null; }
            var b = new Batch();
            while (true)
            {
                if (item.Special)
                {
                    b.Special = item.Obj;
                    b.SpecialType = item.Type;
                    b.SpecialStatus = item.Status;
                    return b;
                }
                b.Records.Add(item.Obj);
                if (b.Records.Count >= batchSize || !queue.TryTake(out item)) return b;
            }
        }

        /// <summary>Next stderr line, or null.</summary>
        public string NextStderr()
        {
            string line;
            return stderr.TryDequeue(out line) ? line : null;
        }

        /// <summary>Waits for the process to exit and stderr to drain; returns the exit code,
        /// or null if it is still running after the timeout.</summary>
        public int? WaitForExit(int timeoutMs)
        {
            if (!process.WaitForExit(timeoutMs)) return null;
            stderrThread.Join(Math.Max(timeoutMs, 1000));
            stdoutThread.Join(Math.Max(timeoutMs, 1000));
            return process.ExitCode;
        }

        public bool HasExited { get { try { return process.HasExited; } catch { return true; } } }

        /// <summary>Stops the binary the way Ctrl+C does (pipeline stopped, -ErrorAction Stop,
        /// Select-Object -First): SIGINT, so it sends nothing new, lets the requests in flight
        /// settle and journals them (exit 130); killed only if it has not exited after
        /// <paramref name="graceMs"/>. Returns true when it exited by itself. Windows has no
        /// SIGINT for a child without a console: killed at once there.</summary>
        public bool Interrupt(int graceMs)
        {
            draining = true;
            Item ignored;
            while (queue.TryTake(out ignored)) { }
            bool exited = false;
            try
            {
                if (!process.HasExited && !RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && SysKill(process.Id, SIGINT) == 0)
                {
                    var deadline = DateTime.UtcNow.AddMilliseconds(graceMs);
                    while (!(exited = process.WaitForExit(50)) && DateTime.UtcNow < deadline)
                        while (queue.TryTake(out ignored)) { }
                }
                else exited = process.HasExited;
            }
            catch { }
            Stop();
            return exited;
        }

        /// <summary>Kills the binary (it did not exit after SIGINT, or Windows).</summary>
        public void Stop()
        {
            stopped = true;
            try { cancel.Cancel(); } catch { }
            try { if (!process.HasExited) process.Kill(true); } catch { }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0) return;
            if (!HasExited) Stop();
            try { cancel.Cancel(); } catch { }
            try { process.WaitForExit(5000); } catch { }
            stdoutThread.Join(2000);
            stderrThread.Join(2000);
            // The Process object itself is left to the GC: callers (Stop-OathBulkSimulator)
            // may still read HasExited / ExitCode from it.
        }
    }
    /// <summary>One CSV's share of the piped input: the whole file, or lines, or serials.</summary>
    public sealed class FileSelection
    {
        public bool All;
        /// <summary>CSV line -> the serial the piped row had there (checked: OathBulk.CsvChanged).</summary>
        public readonly SortedDictionary<long, string> Lines = new SortedDictionary<long, string>();
        public readonly List<string> Serials = new List<string>();
        readonly HashSet<string> seen = new HashSet<string>(StringComparer.Ordinal);
        public bool IsEmpty { get { return !All && Lines.Count == 0 && Serials.Count == 0; } }
        public void AddSerial(string serial) { if (seen.Add(serial)) Serials.Add(serial); }
    }

    /// <summary>A piped object without a CSV behind it: a serial (and user), and the row itself
    /// when it carries a seed (an Import-Csv row), for cmdlets that read CSV rows.</summary>
    public sealed class PathlessItem
    {
        public string Serial;
        public string Upn;
        public PSObject Row;
    }

    /// <summary>
    /// The pipeline binder of every cmdlet whose scope comes from its input. PowerShell's own
    /// by-property-name binding costs tens of microseconds per object and turns an unknown
    /// object into text for a [string] parameter (an Import-Csv row, seed included, became
    /// "Cannot find the CSV file '@{upn=…; secret key=…}'"). Here each object is bound by its
    /// properties in one call, and an object that fits nothing is refused by its type name.
    /// </summary>
    public sealed class InputBinder
    {
        static readonly string[] PathNames = { "Path" };
        static readonly string[] FileNames = { "FullName", "PSPath" };
        static readonly string[] SerialNames = { "Serial", "SerialNumber", "serial number", "serial_number" };
        static readonly string[] UpnNames = { "Upn", "UserPrincipalName", "UserId", "user principal name" };
        static readonly string[] SeedNames = { "secret key", "secret_key", "SecretKey", "secret" };

        readonly PSCmdlet cmdlet;
        readonly bool stringsAreSerials;
        readonly List<string> fileOrder = new List<string>();
        readonly Dictionary<string, FileSelection> files = new Dictionary<string, FileSelection>(StringComparer.Ordinal);
        readonly HashSet<string> patternSeen = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>Objects received, objects bound, objects refused.</summary>
        public int Received, Bound, Refused;
        /// <summary>Piped strings taken as -Path (wildcards allowed), in arrival order.</summary>
        public readonly List<string> Patterns = new List<string>();
        public readonly List<PathlessItem> Pathless = new List<PathlessItem>();

        /// <param name="stringsAreSerials">Piped strings are serials (tenant cmdlets), not paths.</param>
        public InputBinder(PSCmdlet cmdlet, bool stringsAreSerials)
        {
            this.cmdlet = cmdlet;
            this.stringsAreSerials = stringsAreSerials;
            // Not fed by a pipeline: the process block runs once with $null, which is no input.
            Enabled = cmdlet == null || cmdlet.MyInvocation.ExpectingInput;
        }

        /// <summary>False when the cmdlet is not fed by a pipeline: Add ignores its call.</summary>
        public bool Enabled;

        public IList<string> FileOrder { get { return fileOrder; } }
        public FileSelection this[string path] { get { return files[path]; } }

        /// <summary>The selection of a (full) CSV path, created on first use.</summary>
        public FileSelection File(string path)
        {
            FileSelection sel;
            if (!files.TryGetValue(path, out sel))
            {
                sel = new FileSelection();
                files[path] = sel;
                fileOrder.Add(path);
            }
            return sel;
        }

        static PSPropertyInfo Find(PSObject o, string[] names)
        {
            foreach (var n in names)
            {
                var p = o.Properties[n];
                if (p != null) return p;
            }
            return null;
        }

        // The name that matched last time is tried first: a by-name lookup costs about 1 us
        // when it hits and 3 us when it misses, and this runs once per piped row (the rows of
        // one pipeline nearly always share one shape, e.g. the vendor's `serial number`).
        int pathHint, serialHint, upnHint, seedHint;

        static PSPropertyInfo Find(PSObject o, string[] names, ref int hint)
        {
            var first = o.Properties[names[hint]];
            if (first != null) return first;
            for (int i = 0; i < names.Length; i++)
            {
                if (i == hint) continue;
                var p = o.Properties[names[i]];
                if (p != null) { hint = i; return p; }
            }
            return null;
        }

        /// <summary>True when the piped row has a seed column (an Import-Csv row of the vendor
        /// file), so it can stand for its CSV row.</summary>
        public bool HasSeed(PathlessItem item)
        {
            return item.Row != null && Find(item.Row, SeedNames, ref seedHint) != null;
        }

        static string Text(PSPropertyInfo p)
        {
            if (p == null) return null;
            object v;
            try { v = p.Value; } catch { return null; }
            if (v == null) return null;
            var pso = v as PSObject;
            if (pso != null) v = pso.BaseObject;
            var s = v as string ?? System.Convert.ToString(v, CultureInfo.InvariantCulture);
            return string.IsNullOrWhiteSpace(s) ? null : s.Trim();
        }

        /// <summary>Binds one piped object; an unusable one becomes a non-terminating error
        /// (OathBulk.UnsupportedInput) naming its type, never its text.</summary>
        /// <summary>Stopwatch ticks of the first and the latest Add (the binding benchmark).</summary>
        public long FirstTicks, LastTicks;

        /// <summary>Milliseconds from the first piped object to the last one bound.</summary>
        public double BindMilliseconds
        {
            get { return Received == 0 ? 0 : (LastTicks - FirstTicks) * 1000.0 / Stopwatch.Frequency; }
        }

        public void Add(object input)
        {
            if (!Enabled) return;
            LastTicks = Stopwatch.GetTimestamp();
            if (Received++ == 0) FirstTicks = LastTicks;
            if (input == null) return;
            var o = input as PSObject ?? PSObject.AsPSObject(input);
            var b = o.BaseObject;
            var str = b as string;
            if (str != null)
            {
                if (string.IsNullOrWhiteSpace(str)) { Refuse(o, "an empty string"); return; }
                if (stringsAreSerials) Pathless.Add(new PathlessItem { Serial = str.Trim() });
                else if (patternSeen.Add(str)) Patterns.Add(str);
                Bound++;
                return;
            }
            var fi = b as FileInfo;
            if (fi != null) { File(fi.FullName).All = true; Bound++; return; }
            if (b is DirectoryInfo) { Refuse(o, null); return; }

            // Path is a CSV only on this module's rows and on plain objects (Select-Object,
            // Import-Csv): a Process's Path is its executable, not a file to read.
            // Path is a CSV only on this module's rows and on plain objects (Select-Object,
            // Import-Csv): a Process's Path is its executable, not a file to read.
            string path = b is OathBulk.RowRecord || b is PSCustomObject ? Text(Find(o, PathNames, ref pathHint)) : null;
            string serial = Text(Find(o, SerialNames, ref serialHint));
            string upn = serial != null ? Text(Find(o, UpnNames, ref upnHint)) : null;
            if (path != null)
            {
                long line = 0;
                var lp = o.Properties["Line"];
                if (lp != null)
                {
                    try { line = System.Convert.ToInt64(lp.Value is PSObject ? ((PSObject)lp.Value).BaseObject : lp.Value, CultureInfo.InvariantCulture); } catch { line = 0; }
                }
                var sel = File(path);
                if (line > 0) sel.Lines[line] = serial;
                else if (serial != null) sel.AddSerial(serial);
                else sel.All = true;
                Bound++;
                return;
            }
            if (serial != null)
            {
                // The row is kept; whether it carries a seed is asked once, at the end (HasSeed).
                Pathless.Add(new PathlessItem { Serial = serial, Upn = upn, Row = o });
                Bound++;
                return;
            }
            string file = Text(Find(o, FileNames));
            if (file != null && !stringsAreSerials)
            {
                // A file-system item by another shape (Get-Item output in a PSObject): literal.
                File(cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(file)).All = true;
                Bound++;
                return;
            }
            Refuse(o, null);
        }

        void Refuse(PSObject o, string what)
        {
            Refused++;
            string typeName = o.TypeNames.Count > 0 ? o.TypeNames[0] : o.BaseObject.GetType().FullName;
            string msg = "Cannot use " + (what ?? "an object of type " + typeName) + " as input: pipe OathBulk.Token or Import-Csv rows (Serial/'serial number', Upn), "
                + "tenant tokens (Serial/SerialNumber), or files (Path/FullName)" + (stringsAreSerials ? ", or serial numbers." : ", or paths.");
            var er = new ErrorRecord(new ArgumentException(msg), "OathBulk.UnsupportedInput", ErrorCategory.InvalidType, typeName);
            cmdlet.WriteError(er);
        }

        /// <summary>Rows without a file, written back as CSV (for the binary's stdin: the seeds
        /// stay in memory and a pipe, never on disk or the command line). The header is the
        /// union of the rows' property names, first seen first.</summary>
        public string RowsAsCsv(IList<PathlessItem> items, bool serialAndUpnOnly)
        {
            var sb = new StringBuilder(items.Count * 96);
            if (serialAndUpnOnly)
            {
                // The upn column only when every token names its user (an empty cell is a row
                // error to the binary): Resolve-OathBulkRun splits the two kinds.
                bool withUpn = items.Count > 0 && items.All(i => i.Upn != null);
                sb.Append(withUpn ? "upn,serial number\n" : "serial number\n");
                foreach (var it in items)
                {
                    if (withUpn) { AppendCell(sb, it.Upn); sb.Append(','); }
                    AppendCell(sb, it.Serial); sb.Append('\n');
                }
                return sb.ToString();
            }
            var headers = new List<string>();
            var known = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var it in items)
                foreach (var p in it.Row.Properties)
                    if (p.MemberType == PSMemberTypes.NoteProperty && known.Add(p.Name)) headers.Add(p.Name);
            for (int i = 0; i < headers.Count; i++) { if (i > 0) sb.Append(','); AppendCell(sb, headers[i]); }
            sb.Append('\n');
            foreach (var it in items)
            {
                for (int i = 0; i < headers.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    var p = it.Row.Properties[headers[i]];
                    AppendCell(sb, p == null || p.Value == null ? null : System.Convert.ToString(p.Value, CultureInfo.InvariantCulture));
                }
                sb.Append('\n');
            }
            return sb.ToString();
        }

        static void AppendCell(StringBuilder sb, string v)
        {
            if (string.IsNullOrEmpty(v)) return;
            if (v.IndexOfAny(new[] { ',', '"', '\n', '\r' }) >= 0 || v[0] == ' ' || v[v.Length - 1] == ' ')
                sb.Append('"').Append(v.Replace("\"", "\"\"")).Append('"');
            else sb.Append(v);
        }
    }

    /// <summary>Private temporary files (a simulator's accepted token) deleted when the
    /// process exits, even when nobody called Stop-OathBulkSimulator.</summary>
    public static class TempFileRegistry
    {
        static readonly ConcurrentDictionary<string, byte> Files = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);

        static TempFileRegistry()
        {
            AppDomain.CurrentDomain.ProcessExit += (s, e) => { foreach (var f in Files.Keys) Delete(f); };
        }

        public static void Add(string path) { Files[path] = 0; }

        public static void Delete(string path)
        {
            byte ignored;
            Files.TryRemove(path, out ignored);
            try { File.Delete(path); } catch { }
        }
    }

}
