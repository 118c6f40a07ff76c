import ArgumentParser
import Foundation

/// The `azalia` tool: the Intel High Definition Audio bus, run without hardware.
@main
struct AzaliaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "azalia",
        abstract: "The Intel High Definition Audio bus in software: a virtual controller, the hdaudio.h DMA DDI and a codec.",
        discussion: """
            Start with `azalia demo`: a function driver renders a test signal through the DDI, the
            controller and the codec, loops it back into a capture engine and checks it bit for bit.

            Examples:
              azalia demo --profile skylake-pch --format 96000/24/6 --trace demo.json
              azalia play speech.wav --out heard.wav --interface bdl
              azalia plan --render 192000/32/8 --capture 0:48000/16/2
              azalia format --decode 0x4011
            """,
        subcommands: [DemoCommand.self, PlayCommand.self, RecordCommand.self, PlanCommand.self,
                      FormatCommand.self, ProfilesCommand.self, BenchCommand.self, VMCommand.self, StressCommand.self,
                      CodecCommand.self])
}

/// A failure the tool reports as one line on standard error with a non-zero exit.
struct CLIFailure: Error, CustomStringConvertible {
    /// The message, without the `azalia:` prefix.
    var message: String
    /// The exit code (1 unless said otherwise).
    var code: Int32 = 1
    init(_ message: String, code: Int32 = 1) {
        self.message = message
        self.code = code
    }
    var description: String { message }
}

/// Runs a command body; a CLIFailure becomes one line on standard error and its exit code.
func reportingFailures(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let failure as CLIFailure {
        FileHandle.standardError.write(Data("azalia: error: \(failure.message)\n".utf8))
        throw ExitCode(failure.code)
    }
}

/// Prints a value as pretty, key-sorted JSON on standard output.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    print(String(decoding: data, as: UTF8.self))
}

