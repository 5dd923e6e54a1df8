fn main() {
    std::process::exit(oathbulk::cli::run());
}
