#!/usr/bin/env python3
"""JSON Schemas (draft 2020-12) for the request bodies oathbulk sends, taken from a Graph CSDL.

    python3 tests/sdk/extract_schemas.py CSDL [OUT]

CSDL is microsoftgraph/msgraph-metadata's schemas/beta-Prod.csdl, whole or the committed excerpt
(tests/sdk/csdl/beta-Prod.excerpt.xml); OUT defaults to stdout. Only the standard library.

What comes out, by key:
- `entity:T`: an instance of entity type T as a request may carry it (every property optional;
  `Nullable="false"` forbids null; enum properties take the enum's members, exactly as spelled);
- `create:T`: a body creating a T: as `entity:T`, and every non-nullable structural property
  (except the key `id`) required;
- `delta:T`: the bulk body `{"@context"?, "value": [create:T …]}`;
- `action:NAME`: the body of the bound action NAME (its parameters but the binding one; an
  action with none takes no body, or an empty object).
Keys starting with `@` (OData annotations: `@odata.type`, `@contentId`) are allowed anywhere;
any other property a type does not declare is refused (`additionalProperties: false`).
"""
import json
import sys
import xml.etree.ElementTree as ET

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
TYPES = [
    "hardwareOathTokenAuthenticationMethodDevice",
    "hardwareOathAuthenticationMethod",
    "hardwareOathAuthenticationMethodConfiguration",
]
CREATES = ["hardwareOathTokenAuthenticationMethodDevice", "hardwareOathAuthenticationMethod"]
ACTIONS = [("activate", "graph.hardwareOathAuthenticationMethod"),
           ("assignAndActivate", "Collection(graph.hardwareOathAuthenticationMethod)"),
           ("deactivate", "graph.hardwareOathAuthenticationMethod")]
PRIMITIVES = {
    "Edm.String": {"type": "string"},
    "Edm.Boolean": {"type": "boolean"},
    "Edm.Int32": {"type": "integer", "minimum": -2**31, "maximum": 2**31 - 1},
    "Edm.Int64": {"type": "integer"},
    "Edm.DateTimeOffset": {"type": "string", "format": "date-time"},
    "Edm.Guid": {"type": "string"},
}


def local(name):
    """`graph.x` or `microsoft.graph.x` → `x`."""
    return name.rsplit(".", 1)[-1]


class Csdl:
    def __init__(self, path):
        root = ET.parse(path).getroot()
        schema = next(s for s in root.iter(f"{EDM}Schema") if s.get("Namespace") == "microsoft.graph")
        self.enums = {e.get("Name"): [m.get("Name") for m in e.findall(f"{EDM}Member")]
                      for e in schema.findall(f"{EDM}EnumType")}
        self.entities = {e.get("Name"): e for e in schema.findall(f"{EDM}EntityType")}
        self.actions = schema.findall(f"{EDM}Action")

    def properties(self, name):
        """(name, element) of T and its bases, base first; `entity` contributes the key `id`."""
        chain, current = [], name
        while current in self.entities:
            chain.append(self.entities[current])
            current = local(self.entities[current].get("BaseType") or "")
        out = [("id", ET.Element("Property", Name="id", Type="Edm.String"))]
        for element in reversed(chain):
            for p in element:
                if p.tag in (f"{EDM}Property", f"{EDM}NavigationProperty"):
                    out.append((p.get("Name"), p))
        return out

    def type_schema(self, type_name, nullable):
        if type_name.startswith("Collection(") and type_name.endswith(")"):
            inner = self.type_schema(type_name[len("Collection("):-1], False)
            return {"type": ["array", "null"] if nullable else "array", "items": inner}
        if type_name in PRIMITIVES:
            s = dict(PRIMITIVES[type_name])
        elif local(type_name) in self.enums:
            s = {"type": "string", "enum": list(self.enums[local(type_name)])}
        elif local(type_name) in self.entities:
            s = {"$ref": f"#/$defs/entity:{local(type_name)}"}
        else:
            # A complex or entity type not in the extract: an object, its members unchecked.
            s = {"type": "object", "description": f"{type_name} (members not extracted)"}
        if nullable:
            return {"anyOf": [s, {"type": "null"}]}
        return s

    def entity(self, name, create=False):
        props, required = {}, []
        for pname, p in self.properties(name):
            nullable = p.get("Nullable") != "false"
            props[pname] = self.type_schema(p.get("Type"), nullable)
            if create and not nullable and p.tag == f"{EDM}Property" and pname != "id":
                required.append(pname)
        s = {"type": "object", "properties": props, "patternProperties": {"^@": {}},
             "additionalProperties": False}
        if required:
            s["required"] = required
        return s

    def action(self, name, binding):
        for a in self.actions:
            params = a.findall(f"{EDM}Parameter")
            if a.get("Name") == name and params and params[0].get("Type") == binding:
                props = {p.get("Name"): self.type_schema(p.get("Type"), p.get("Nullable") != "false")
                         for p in params[1:]}
                return {"type": "object", "properties": props, "patternProperties": {"^@": {}},
                        "additionalProperties": False}
        raise SystemExit(f"action {name} bound to {binding} not in the CSDL")


def extract(path):
    csdl = Csdl(path)
    defs = {}
    for t in TYPES:
        defs[f"entity:{t}"] = csdl.entity(t)
    for t in CREATES:
        defs[f"create:{t}"] = csdl.entity(t, create=True)
    device = "hardwareOathTokenAuthenticationMethodDevice"
    defs[f"delta:{device}"] = {
        "type": "object",
        "properties": {"@context": {"type": "string"},
                       "value": {"type": "array", "items": {"$ref": f"#/$defs/create:{device}"}}},
        "required": ["value"],
        "additionalProperties": False,
    }
    for name, binding in ACTIONS:
        defs[f"action:{name}"] = csdl.action(name, binding)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs}


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    text = json.dumps(extract(sys.argv[1]), indent=2, sort_keys=True) + "\n"
    if len(sys.argv) == 3:
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
