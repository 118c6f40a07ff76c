import Foundation
import Testing
import HDACodec
import HDAudio
@testable import Azalia
import HDAController
import HDAudioBus

/// Writes a WAV of seeded noise into `dir` and returns its path and contents.
func writeNoise(_ dir: URL, _ name: String, _ format: WAVFormat, blocks: Int, seed: UInt64 = 7) throws -> (String, WAVFile) {
    let wav = noiseWAV(format, blocks: blocks, seed: seed)
    let path = dir.appendingPathComponent(name).path
    try wav.write(path: path)
    return (path, wav)
}

@Suite("azalia play and record")
struct PlayRecordCommandTests {
    @Test("play renders a WAV: --out holds what the DAC's sink received, equal to the input")
    func play() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (input, wav) = try writeNoise(dir, "in.wav", WAVFormat(sampleRate: 44100, channels: 2, bitsPerSample: 16), blocks: 4410)
        let out = dir.appendingPathComponent("out.wav").path
        let run = try azalia("play", input, "--out", out)
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        #expect(run.stdout.contains("Sink == input: yes, sample for sample"))
        #expect(run.stdout.contains("render   output engine 4, tag 1, 44100/16/2, converter format 0x4011"))
        let played = try WAVFile.read(path: out)
        #expect(played == wav)
    }

    @Test("play over every interface, striped on the 4-SDO profile, 24-bit 6 channels", arguments: ["base", "v2", "bdl"])
    func playInterfaces(_ interface: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (input, wav) = try writeNoise(dir, "in.wav", WAVFormat(sampleRate: 96000, channels: 6, bitsPerSample: 24), blocks: 3000)
        let out = dir.appendingPathComponent("out.wav").path
        let run = try azalia("play", input, "--out", out, "--profile", "azalia-bidi", "--stripe", "--interface", interface, "--json")
        #expect(run.status == 0)
        let report = try jsonObject(run.stdout)
        #expect(report["bitExact"] as? Bool == true)
        #expect(report["interface"] as? String == interface)
        let engine = (report["streams"] as? [[String: Any]])?.first?["engine"] as? [String: Any]
        #expect(engine?["lines"] as? String == "SDO0-SDO3")
        #expect(try WAVFile.read(path: out) == wav)
    }

    @Test("record captures through the ADC: --out equals --from", arguments: ["base", "v2", "bdl"])
    func record(_ interface: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (input, wav) = try writeNoise(dir, "in.wav", WAVFormat(sampleRate: 16000, channels: 1, bitsPerSample: 32), blocks: 1601)
        let out = dir.appendingPathComponent("rec.wav").path
        let run = try azalia("record", "--from", input, "--out", out, "--interface", interface)
        #expect(run.status == 0)
        #expect(run.stdout.contains("Recording == source: yes"))
        #expect(run.stdout.contains("capture  input engine 0"))
        #expect(try WAVFile.read(path: out) == wav)
    }

    @Test("Speech from espeak-ng plays and records bit-exact from the command line")
    func speech() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/espeak-ng") else {
            print("espeak-ng is not installed: skipping")
            return
        }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let speech = dir.appendingPathComponent("speech.wav").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/espeak-ng")
        p.arguments = ["-w", speech, "Record me."]
        try p.run()
        p.waitUntilExit()
        let out = dir.appendingPathComponent("rec.wav").path
        #expect(try azalia("record", "--from", speech, "--out", out).status == 0)
        #expect(try WAVFile.read(path: out).data == WAVFile.read(path: speech).data)
    }

    @Test("Long runs print plain progress lines when standard error is not a terminal")
    func progress() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 10 s of 8 kHz 8-bit mono.
        let (input, _) = try writeNoise(dir, "long.wav", WAVFormat(sampleRate: 8000, channels: 1, bitsPerSample: 8), blocks: 80000)
        let run = try azalia("play", input)
        #expect(run.status == 0)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first == "play: 0%")
        #expect(lines.last == "play: 100%")
        #expect(lines.count >= 5)
        #expect(!run.stderr.contains("\r"))
        let quiet = try azalia("play", input, "--json")
        #expect(quiet.stderr.isEmpty)
    }

    @Test("--trace on play and record holds DDI calls, states, ISR calls and positions")
    func trace() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (input, _) = try writeNoise(dir, "in.wav", WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16), blocks: 9600)
        let playTrace = dir.appendingPathComponent("play.json")
        #expect(try azalia("play", input, "--interface", "bdl", "--trace", playTrace.path).status == 0)
        let events = try traceEvents(playTrace)
        let ddi = Set(events.filter { $0["cat"] as? String == "ddi" }.compactMap { $0["name"] as? String })
        #expect(ddi.isSuperset(of: ["AllocateRenderDmaEngine", "AllocateContiguousDmaBuffer", "SetupDmaEngineWithBdl",
                                    "SetDmaEngineState", "FreeContiguousDmaBuffer", "FreeDmaEngine"]))
        #expect(events.contains { $0["cat"] as? String == "interrupt" && $0["tid"] as? Int == 104 })
        #expect(events.contains { $0["ph"] as? String == "C" && ($0["name"] as? String)?.hasPrefix("engine 4") == true })
        let recordTrace = dir.appendingPathComponent("record.json")
        let out = dir.appendingPathComponent("rec.wav").path
        #expect(try azalia("record", "--from", input, "--out", out, "--interface", "base", "--trace", recordTrace.path).status == 0)
        let recorded = try traceEvents(recordTrace)
        #expect(recorded.contains { $0["name"] as? String == "AllocateCaptureDmaEngine" })
        #expect(recorded.contains { $0["name"] as? String == "AllocateDmaBuffer" })
        #expect(recorded.contains { $0["cat"] as? String == "state" && $0["name"] as? String == "ResetState" })
    }

    /// Bytes of a WAV file with a float format tag.
    static func floatWAV() -> [UInt8] {
        var b: [UInt8] = Array("RIFF".utf8) + [36 + 8, 0, 0, 0] + Array("WAVE".utf8) + Array("fmt ".utf8) + [16, 0, 0, 0]
        b += [3, 0, 1, 0, 0x80, 0xBB, 0, 0, 0x00, 0xEE, 2, 0, 4, 0, 32, 0]
        b += Array("data".utf8) + [8, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
        return b
    }

    @Test("Errors are one line on standard error with a non-zero exit", arguments: [
        "missing", "garbage", "truncated", "float", "rate", "refused-render", "refused-capture", "unwritable",
    ])
    func errors(_ which: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (good, _) = try writeNoise(dir, "good.wav", WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16), blocks: 100)
        let bad = dir.appendingPathComponent("bad.wav").path
        let out = dir.appendingPathComponent("out.wav").path
        var arguments: [String]
        var message: String
        switch which {
        case "missing":
            arguments = ["play", dir.appendingPathComponent("none.wav").path]; message = "no such file"
        case "garbage":
            try Data("not audio at all".utf8).write(to: URL(fileURLWithPath: bad))
            arguments = ["record", "--from", bad, "--out", out]; message = "not a RIFF file"
        case "truncated":
            let bytes = try Data(contentsOf: URL(fileURLWithPath: good)).prefix(30)
            try bytes.write(to: URL(fileURLWithPath: bad))
            arguments = ["play", bad]; message = "not a WAV file Azalia can read"
        case "float":
            try Data(Self.floatWAV()).write(to: URL(fileURLWithPath: bad))
            arguments = ["play", bad]; message = "IEEE float"
        case "rate":
            let (odd, _) = try writeNoise(dir, "odd.wav", WAVFormat(sampleRate: 44000, channels: 2, bitsPerSample: 16), blocks: 100)
            arguments = ["play", odd]; message = "cannot be encoded"
        case "refused-render":
            let (big, _) = try writeNoise(dir, "big.wav", WAVFormat(sampleRate: 192000, channels: 16, bitsPerSample: 32), blocks: 10)
            arguments = ["play", big]; message = "AllocateRenderDmaEngine returned STATUS_BUFFER_TOO_SMALL (0xC0000023)"
        case "refused-capture":
            let (wide, _) = try writeNoise(dir, "wide.wav", WAVFormat(sampleRate: 96000, channels: 8, bitsPerSample: 32), blocks: 10)
            arguments = ["record", "--from", wide, "--out", out]; message = "AllocateCaptureDmaEngine returned STATUS_BUFFER_TOO_SMALL"
        default:
            arguments = ["record", "--from", good, "--out", "/nonexistent-dir/out.wav"]; message = "/nonexistent-dir/out.wav"
        }
        let run = try azalia(arguments: arguments)
        #expect(run.status == 1)
        let line = try #require(errorLine(run), "stderr: \(run.stderr)")
        #expect(line.hasPrefix("azalia: error: "))
        #expect(line.contains(message), "\(line)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("Argument mistakes are usage errors (exit 64)", arguments: [
        ["play"], ["record", "--out", "x.wav"], ["record", "--from", "x.wav"], ["play", "x.wav", "--interface", "v9"],
    ])
    func usage(_ arguments: [String]) throws {
        let run = try azalia(arguments: arguments)
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("Error: "))
    }

    @Test("--help shows examples and the allowed values", arguments: ["play", "record"])
    func help(_ command: String) throws {
        let run = try azalia(command, "--help")
        #expect(run.status == 0)
        for text in ["Examples:", "azalia \(command)", "ich6", "azalia-bidi", "base, v2, bdl", "16 channels"] {
            #expect(run.stdout.contains(text), "\(text) missing")
        }
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


    @Test("A WAV with an odd LIST chunk before fmt and an odd 8-bit data chunk plays bit-exact, and --out holds the samples")
    func oddChunksPlay() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let samples: [UInt8] = (0..<4001).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let fmt = le16(1) + le16(1) + le32(8000) + le32(8000) + le16(1) + le16(8)
        let chunks = Array("LIST".utf8) + le32(3) + [1, 2, 3, 0] + Array("fmt ".utf8) + le32(16) + fmt
            + Array("data".utf8) + le32(UInt32(samples.count)) + samples + [0]
        let input = try writeTestFile(Array("RIFF".utf8) + le32(UInt32(4 + chunks.count)) + Array("WAVE".utf8) + chunks, dir, "odd.wav")
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


    @Test("A codec address the profile has no SDI line for is an error, not a trap or a hang", arguments: [UInt8(15), 200])
    func codecAddressOutOfRange(_ address: UInt8) throws {
        let wav = noiseWAV(WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16), blocks: 100, seed: 1)
        var options = AudioPathOptions()
        options.codecAddress = address
        #expect(throws: AudioPathError.self) { try AudioPath.record(from: wav, options: options) }
        #expect(throws: AudioPathError.self) { try AudioPath.play(wav, options: options) }
    }
}
