@testable import Azalia
import Foundation
import HDACodec
import HDAController
import HDAudio
import HDAudioBus
import Testing

@Suite("Command-line output: JSON and error lines")
struct CLIOutputTests {

    @Test("Every data command's --json output parses as JSON", arguments: [
        ["profiles", "--json"], ["profiles", "azalia-bidi", "--json"], ["format", "--decode", "0x4011", "--json"],
        ["format", "96000/24/2", "--json"], ["plan", "--render", "48000/16/2", "--capture", "3:48000/16/2", "--json"],
        ["demo", "--seconds", "0.01", "--interface", "bdl", "--json"],
    ])
    func jsonEverywhere(_ args: [String]) throws {
        let run = try azalia(arguments: args)
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        let value = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
        #expect(value is [String: Any] || value is [Any])
    }


    @Test("With --json, errors leave standard output empty and go to standard error as one line")
    func jsonErrorsKeepStdoutClean() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (big, _) = try writeNoise(dir, "big.wav", WAVFormat(sampleRate: 192000, channels: 16, bitsPerSample: 32), blocks: 4)
        let (odd, _) = try writeNoise(dir, "odd.wav", WAVFormat(sampleRate: 44000, channels: 2, bitsPerSample: 16), blocks: 4)
        // A data chunk announcing far more than the file holds.
        var cut = try WAVFile(format: WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16), data: [1, 2, 3, 4]).serialized()
        cut.replaceSubrange(40..<44, with: le32(1_000_000))
        let truncated = try writeTestFile(cut, dir, "cut.wav")
        let cases: [[String]] = [
            ["play", dir.appendingPathComponent("none.wav").path, "--json"],
            ["play", big, "--json"],
            ["play", odd, "--json"],
            ["play", truncated, "--json"],
            ["record", "--from", big, "--out", dir.appendingPathComponent("r.wav").path, "--json"],
            ["demo", "--format", "384000/16/2", "--json"],
        ]
        for args in cases {
            let run = try azalia(arguments: args)
            #expect(run.status == 1, "\(args)")
            #expect(run.stdout.isEmpty, "\(args)")
            #expect(run.stderr.hasPrefix("azalia: error:") && run.stderr.split(separator: "\n").count == 1, "\(args): \(run.stderr)")
        }
    }
}
