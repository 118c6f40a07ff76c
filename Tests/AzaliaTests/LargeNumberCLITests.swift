import Foundation
import Testing

@Suite("Command lines and files with numbers at the edge of their types")
struct LargeNumberCLITests {
    static let rate29 = "536870912"   // 2^29: rate x 8 no longer fits 32 bits

    @Test("A rate of 2^29 Hz or more is one error line and a non-zero exit, never a trap", arguments: [
        ["format", "\(rate29)/16/2"],
        ["format", "--rate", "4294967295", "--bits", "16", "--channels", "2"],
        ["demo", "--seconds", "0.1", "--format", "\(rate29)/16/2"],
    ])
    func hugeRate(arguments: [String]) throws {
        let run = try azalia(arguments: arguments)
        #expect(run.status == 1 || run.status == 64, "exit \(run.status): \(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(!run.stderr.contains("Fatal error"))
    }

    @Test("vm --timeout too large for the nanosecond clock is a usage error (it trapped converting to UInt64)", arguments: ["inf", "1e30", "86401"])
    func hugeTimeout(value: String) throws {
        let run = try azalia("vm", "--check", "--timeout", value)
        #expect(run.status == 64, "exit \(run.status): \(run.stderr)")
        #expect(run.stderr.contains("--timeout must be in (0, 86400] seconds"))
    }

    @Test("A WAV file whose header says 2^29 Hz is refused in one line by play")
    func hugeRateWAV() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rate: UInt32 = 1 << 29
        var bytes = Array("RIFF".utf8) + le32(36 + 4) + Array("WAVE".utf8)
        bytes += Array("fmt ".utf8) + le32(16) + le16(1) + le16(1) + le32(rate) + le32(rate * 2) + le16(2) + le16(16)
        bytes += Array("data".utf8) + le32(4) + [0, 0, 0, 0]
        let input = try writeTestFile(bytes, dir, "huge.wav")
        let run = try azalia("play", input)
        #expect(run.status != 0 && run.status < 128, "exit \(run.status): \(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }
}
