import Foundation
import Testing
@testable import Azalia
import HDACodec
import HDAController
import HDAudio
import HDAudioBus

/// Independent review of the end-to-end path (play, record, loopback), its trace and the
/// `azalia` tool against issues 6 and 7 and the reference. Disabled tests assert the
/// correct behaviour of a bug the review found.
@Suite("Review: end-to-end path and CLI")
struct PathCLIReviewTests {
    /// Writes raw bytes to a file in `dir`.
    private func write(_ bytes: [UInt8], _ dir: URL, _ name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xFFFF)) + le16(UInt16(v >> 16)) }

    // MARK: The bit-exact claim

    @Test("The demo's bit-exact 'yes' needs the codec to have passed the audio: an ADC that refused every packet is a failure")
    func demoYesDespiteRefusedPackets() throws {
        // 1 block of the test signal: sin(0) = 0 on every channel, i.e. silence.
        let run = try azalia("demo", "--seconds", "0.00002", "--fault", "adc-format", "--json")
        #expect(run.status != 0)
        let report = try jsonObject(run.stdout)
        let path = try #require(report["path"] as? [String: Any])
        #expect((path["codecFormatMismatches"] as? Int ?? 0) > 0)
        #expect(path["bitExact"] as? Bool == false)
    }

    @Test("Record: a recording the ADC refused (format mismatch) is not reported bit-exact, even when the source is silence")
    func recordSilenceThroughRefusingADC() throws {
        let wav = WAVFile(format: WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16), data: [UInt8](repeating: 0, count: 4 * 960))
        var options = AudioPathOptions()
        options.fault = .adcFormat
        let result = try AudioPath.record(from: wav, options: options)
        #expect(result.report.codecFormatMismatches > 0)
        #expect(!result.report.bitExact)
    }

    @Test("The demo refuses a run too short to hold one compared block instead of claiming 'yes, bit for bit (0 blocks compared)'")
    func demoZeroBlocks() throws {
        let run = try azalia("demo", "--seconds", "0.000001")
        #expect(run.status != 0)
        #expect(!run.stdout.contains("yes, bit for bit"))
    }

    @Test("A --format the DDI accepts with a container wider than SDnFMT's (16in32, 8in16, 8in32) runs bit-exact or is refused up front",
          arguments: ["48000/16in32/2", "48000/8in16/2", "48000/8in32/2"])
    func wideContainerDemo(_ format: String) throws {
        let run = try azalia("demo", "--format", format, "--seconds", "0.05", "--json")
        if run.status == 0 {
            let path = try #require(try jsonObject(run.stdout)["path"] as? [String: Any])
            #expect(path["bitExact"] as? Bool == true)
        } else {
            // Refused before running: one line naming why, no report.
            #expect(run.stdout.isEmpty)
            #expect(!run.stderr.contains("differs"))
        }
    }

    @Test("Packets a loopback drops for a format mismatch are counted in the report, not hidden")
    func delayLineDropsReported() throws {
        let format = StreamFormat(sampleRate: 48000, validBitsPerSample: 16, containerSize: 32, numberOfChannels: 2)
        let result = try AudioPath.loopback(signal: AudioPath.testSignal(format: format, blocks: 960), format: format)
        #expect(result.report.bitExact || result.report.codecFormatMismatches > 0)
    }

    @Test("The demo's comparison of a real signal is real: a DAC fault on a 0.05 s signal is caught (probe)")
    func demoFaultCaught() throws {
        let run = try azalia("demo", "--seconds", "0.05", "--fault", "dac-format", "--json")
        #expect(run.status == 1)
        let path = try #require(try jsonObject(run.stdout)["path"] as? [String: Any])
        #expect(path["bitExact"] as? Bool == false)
        #expect(run.stderr.hasPrefix("azalia: error:"))
    }

    // MARK: Trace

    @Test("--trace is written when the DDI refuses, holding the refused call and its status")
    func traceOnRefusal() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 192 kHz / 32-bit / 16 channels: the FIFO cannot hold one frame (STATUS_BUFFER_TOO_SMALL).
        let (input, _) = try writeNoise(dir, "big.wav", WAVFormat(sampleRate: 192000, channels: 16, bitsPerSample: 32), blocks: 10)
        let trace = dir.appendingPathComponent("t.json").path
        let run = try azalia("play", input, "--trace", trace)
        #expect(run.status == 1)
        let data = try Data(contentsOf: URL(fileURLWithPath: trace))
        let events = try #require(try jsonObject(String(decoding: data, as: UTF8.self))["traceEvents"] as? [[String: Any]])
        let refused = events.first { $0["name"] as? String == "AllocateRenderDmaEngine" }
        #expect((refused?["args"] as? [String: Any])?["status"] as? String == "STATUS_BUFFER_TOO_SMALL")
    }

    @Test("A converter format mismatch is visible in the --trace file (issue 6: counted, and visible in traces)")
    func traceShowsMismatch() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.json").path
        let run = try azalia("demo", "--seconds", "0.05", "--fault", "dac-format", "--trace", trace)
        #expect(run.status == 1)
        let data = try Data(contentsOf: URL(fileURLWithPath: trace))
        let events = try #require(try jsonObject(String(decoding: data, as: UTF8.self))["traceEvents"] as? [[String: Any]])
        #expect(events.contains { (($0["name"] as? String ?? "") + ($0["cat"] as? String ?? "")).lowercased().contains("mismatch") })
    }

    @Test("The demo's (V2) trace shows the controller's interrupts, not only the notifications they signal (issue 7)")
    func v2TraceHasInterrupts() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.json").path
        let run = try azalia("demo", "--seconds", "0.2", "--trace", trace)
        #expect(run.status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: trace))
        let events = try #require(try jsonObject(String(decoding: data, as: UTF8.self))["traceEvents"] as? [[String: Any]])
        #expect(events.contains { $0["cat"] as? String == "notification" })
        #expect(events.contains { $0["cat"] as? String == "interrupt" })
    }

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

    @Test("--trace to an unwritable path is one error line and exit 1, with --json's stdout left empty", arguments: ["play", "demo", "plan"])
    func traceUnwritable(_ command: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (input, _) = try writeNoise(dir, "in.wav", WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16), blocks: 100)
        let bad = dir.appendingPathComponent("missing/dir/t.json").path
        let args: [String] = switch command {
        case "play": ["play", input, "--trace", bad, "--json"]
        case "demo": ["demo", "--seconds", "0.01", "--trace", bad, "--json"]
        default: ["plan", "--render", "48000/16/2", "--trace", bad, "--json"]
        }
        let run = try azalia(arguments: args)
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("azalia: error:"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    // MARK: JSON and errors

    @Test("With --json, errors leave standard output empty and go to standard error as one line")
    func jsonErrorsKeepStdoutClean() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (big, _) = try writeNoise(dir, "big.wav", WAVFormat(sampleRate: 192000, channels: 16, bitsPerSample: 32), blocks: 4)
        let (odd, _) = try writeNoise(dir, "odd.wav", WAVFormat(sampleRate: 44000, channels: 2, bitsPerSample: 16), blocks: 4)
        // A data chunk announcing far more than the file holds.
        var cut = try WAVFile(format: WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16), data: [1, 2, 3, 4]).serialized()
        cut.replaceSubrange(40..<44, with: le32(1_000_000))
        let truncated = try write(cut, dir, "cut.wav")
        let cases: [[String]] = [
            ["play", dir.appendingPathComponent("none.wav").path, "--json"],
            ["play", big, "--json"],
            ["play", odd, "--json"],
            ["play", truncated, "--json"],
            ["record", "--from", big, "--out", dir.appendingPathComponent("r.wav").path, "--json"],
            ["demo", "--format", "384000/16/2", "--json"],
            ["demo", "--profile", "nope", "--json"],
        ]
        for args in cases {
            let run = try azalia(arguments: args)
            #expect(run.status == 1, "\(args)")
            #expect(run.stdout.isEmpty, "\(args)")
            #expect(run.stderr.hasPrefix("azalia: error:") && run.stderr.split(separator: "\n").count == 1, "\(args): \(run.stderr)")
        }
    }

    @Test("A long demo with --json prints valid JSON and no progress on either stream")
    func longDemoJSON() throws {
        let run = try azalia("demo", "--seconds", "10", "--json")
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        let report = try jsonObject(run.stdout)
        #expect((report["path"] as? [String: Any])?["bitExact"] as? Bool == true)
    }

    // MARK: Odd WAVs and buffers end to end

    @Test("A WAV with an odd LIST chunk before fmt and an odd 8-bit data chunk plays bit-exact, and --out holds the samples")
    func oddChunksPlay() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let samples: [UInt8] = (0..<4001).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let fmt = le16(1) + le16(1) + le32(8000) + le32(8000) + le16(1) + le16(8)
        let chunks = Array("LIST".utf8) + le32(3) + [1, 2, 3, 0] + Array("fmt ".utf8) + le32(16) + fmt
            + Array("data".utf8) + le32(UInt32(samples.count)) + samples + [0]
        let input = try write(Array("RIFF".utf8) + le32(UInt32(4 + chunks.count)) + Array("WAVE".utf8) + chunks, dir, "odd.wav")
        let out = dir.appendingPathComponent("out.wav").path
        let run = try azalia("play", input, "--out", out, "--json")
        #expect(run.status == 0)
        #expect(try jsonObject(run.stdout)["bitExact"] as? Bool == true)
        let played = try WAVFile.read(path: out)
        #expect(played.data == samples)
        #expect(played.format == WAVFormat(sampleRate: 8000, channels: 1, bitsPerSample: 8))
    }

    @Test("Odd buffer sizes on every interface: a file many times the buffer plays and records bit-exact",
          arguments: ["base", "v2", "bdl"], ["1", "127"])
    func oddBufferSizes(_ interface: String, _ bytes: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (input, wav) = try writeNoise(dir, "in.wav", WAVFormat(sampleRate: 22050, channels: 3, bitsPerSample: 8), blocks: 4409)
        let out = dir.appendingPathComponent("out.wav").path
        let play = try azalia("play", input, "--out", out, "--interface", interface, "--buffer-bytes", bytes, "--json")
        #expect(play.status == 0, "\(play.stderr)")
        #expect(try WAVFile.read(path: out) == wav)
        let rec = dir.appendingPathComponent("rec.wav").path
        let record = try azalia("record", "--from", input, "--out", rec, "--interface", interface, "--buffer-bytes", bytes, "--json")
        #expect(record.status == 0, "\(record.stderr)")
        #expect(try WAVFile.read(path: rec) == wav)
    }

    @Test("--stripe on a 1-SDO profile does not stripe: the whole cost is charged to SDO0 and the audio arrives")
    func stripeOnOneLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (input, _) = try writeNoise(dir, "in.wav", WAVFormat(sampleRate: 96000, channels: 2, bitsPerSample: 16), blocks: 500)
        let run = try azalia("play", input, "--stripe", "--json")
        #expect(run.status == 0)
        let report = try jsonObject(run.stdout)
        let engine = try #require((report["streams"] as? [[String: Any]])?.first?["engine"] as? [String: Any])
        #expect(engine["lines"] as? String == "SDO0")
        #expect(engine["bitsPerLine"] as? Int == 2 * 2 * 16)
        #expect(report["bitExact"] as? Bool == true)
    }

    // MARK: The link budget's edges

    @Test("Exactly at the FIFO budget a stream runs bit-exact; one channel more is BUFFER_TOO_SMALL (ich6)")
    func fifoEdge() throws {
        // Output: 192 kHz x 16-bit x 12 channels = 4 x 24 = 96 bytes = 48 words = OUTSTRMPAY.
        let render = StreamFormat(rate: 192000, bits: 16, channels: 12)
        #expect(try AudioPath.play(noiseWAV(WAVFormat(render), blocks: 700, seed: 3)).report.bitExact)
        let renderOver = StreamFormat(rate: 192000, bits: 16, channels: 13)
        #expect(throws: AudioPathError.driver(.ddi(routine: "AllocateRenderDmaEngine", status: .bufferTooSmall))) {
            try AudioPath.play(noiseWAV(WAVFormat(renderOver), blocks: 10, seed: 3))
        }
        // Input: 192 kHz x 16-bit x 6 channels = 48 bytes = 24 words = INSTRMPAY.
        let capture = StreamFormat(rate: 192000, bits: 16, channels: 6)
        let wav = noiseWAV(WAVFormat(capture), blocks: 700, seed: 4)
        let recorded = try AudioPath.record(from: wav)
        #expect(recorded.report.bitExact && recorded.output == wav)
        let captureOver = StreamFormat(rate: 192000, bits: 16, channels: 7)
        #expect(throws: AudioPathError.driver(.ddi(routine: "AllocateCaptureDmaEngine", status: .bufferTooSmall))) {
            try AudioPath.record(from: noiseWAV(WAVFormat(captureOver), blocks: 10, seed: 4))
        }
    }

    // MARK: Bad options

    @Test("A codec address the profile has no SDI line for is an error, not a trap or a hang", arguments: [UInt8(15), 200])
    func codecAddressOutOfRange(_ address: UInt8) throws {
        let wav = noiseWAV(WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16), blocks: 100, seed: 1)
        var options = AudioPathOptions()
        options.codecAddress = address
        #expect(throws: AudioPathError.self) { try AudioPath.record(from: wav, options: options) }
        #expect(throws: AudioPathError.self) { try AudioPath.play(wav, options: options) }
    }

    @Test("A huge maxChunkFrames does not trap the loopback (the step is capped at a quarter buffer anyway)")
    func hugeChunk() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        var options = AudioPathOptions()
        options.maxChunkFrames = .max
        let result = try AudioPath.loopback(signal: AudioPath.testSignal(format: format, blocks: 480), format: format, options: options)
        #expect(result.report.bitExact)
    }
}
