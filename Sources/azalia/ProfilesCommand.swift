import ArgumentParser

/// `azalia profiles`: the virtual controllers Azalia can build.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List the controller profiles, or show one in detail.")

    @Argument(help: "A profile name to show in detail.")
    var name: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        try reportingFailures {
            throw CLIFailure("profiles arrive with the virtual controller")
        }
    }
}
