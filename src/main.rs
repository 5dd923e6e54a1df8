fn main() -> std::process::ExitCode {
    oathbulk::commands::run().into()
}
