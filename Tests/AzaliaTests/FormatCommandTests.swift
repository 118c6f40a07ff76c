import Foundation
import Testing

@Suite("azalia format")
struct FormatCommandTests {
    @Test("Encoding 44.1 kHz 16-bit stereo prints 0x4011 and exits 0")
    func encodes() throws {
        let run = try azalia("format", "--rate", "44100", "--bits", "16", "--channels", "2")
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("0x4011"))
        #expect(run.stdout.contains("44100 Hz"))
        #expect(run.stderr.isEmpty)
    }

    @Test("--json gives named fields that match the encoding")
    func encodesJSON() throws {
        let run = try azalia("format", "96000/24/2", "--json")
        #expect(run.status == 0)
        let object = try jsonObject(run.stdout)
        #expect(object["converterFormat"] as? String == "0x0831")
        #expect(object["value"] as? Int == 0x0831)
        #expect(object["multiplier"] as? Int == 2)
        #expect(object["containerSize"] as? Int == 32)
    }

    @Test("Decoding 0x4011 prints rate, bits and channels")
    func decodes() throws {
        let run = try azalia("format", "--decode", "0x4011", "--json")
        #expect(run.status == 0)
        let object = try jsonObject(run.stdout)
        #expect(object["sampleRate"] as? Int == 44100)
        #expect(object["bitsPerSample"] as? Int == 16)
        #expect(object["channels"] as? Int == 2)
    }

    @Test("A rate that cannot be encoded is one error line and a non-zero exit")
    func unencodable() throws {
        let run = try azalia("format", "384000/16/2")
        #expect(run.status != 0)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("384000"))
        #expect(run.stderr.contains("STATUS_INVALID_PARAMETER"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test("Values with reserved fields cannot be decoded", arguments: ["0x4091", "0x2011", "0x0071", "0x8011", "0xZZ", "70000"])
    func undecodable(value: String) throws {
        let run = try azalia("format", "--decode", value)
        #expect(run.status != 0)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("error"))
    }

    @Test("Missing fields are a usage error")
    func usageError() throws {
        let run = try azalia("format", "--rate", "48000")
        #expect(run.status != 0)
        #expect(run.stderr.contains("--bits"))
    }

    @Test("--help lists the allowed values and examples")
    func help() throws {
        let run = try azalia("format", "--help")
        #expect(run.status == 0)
        #expect(run.stdout.contains("Examples"))
        #expect(run.stdout.contains("176400"))
    }
}
