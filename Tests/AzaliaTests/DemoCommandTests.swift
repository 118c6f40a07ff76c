import Foundation
import Testing
@testable import Azalia
import HDACodec
import HDAudio
import HDAController
import HDAudioBus

/// The one error line of a failed run.
func errorLine(_ run: CLIRun) -> String? {
    let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    return lines.count == 1 ? String(lines[0]) : nil
}

/// Loads a trace file and returns its events.
func traceEvents(_ url: URL) throws -> [[String: Any]] {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
    return try #require(object?["traceEvents"] as? [[String: Any]])
}

@Suite("azalia demo")
struct DemoCommandTests {
    @Test("The default demo loops ich6 V2 engines and reports a bit-exact capture")
    func defaultDemo() throws {
        let run = try azalia("demo", "--seconds", "0.5")
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        let out = run.stdout
        #expect(out.contains("ich6"))
        #expect(out.contains("V2 interface"))
        #expect(out.contains("render   output engine 4, tag 1, 48000/16/2, converter format 0x0011, FIFO 192 bytes, 32 bits/frame on SDO0"))
        #expect(out.contains("capture  input engine 0, tag 1, 48000/16/2, converter format 0x0011, FIFO 120 bytes, 42 bits/frame on SDI0"))
        #expect(out.contains("16384 bytes (asked 16384), 4 pages"))
        #expect(out.contains("BDL entries"))
        #expect(out.contains("notifications"))
        #expect(out.contains("Final positions:"))
        #expect(out.contains("Captured == rendered: yes, bit for bit (24000 blocks compared)"))
        #expect(out.contains("x real time"))
    }

    @Test("--json gives the engines, buffers, notifications, positions and the comparison as fields")
    func json() throws {
        let run = try azalia("demo", "--seconds", "0.25", "--format", "44100/24/2", "--json")
        #expect(run.status == 0)
        let object = try jsonObject(run.stdout)
        let path = try #require(object["path"] as? [String: Any])
        #expect(path["bitExact"] as? Bool == true)
        #expect(path["blocks"] as? Int == 11025)
        #expect(path["interface"] as? String == "v2")
        let streams = try #require(path["streams"] as? [[String: Any]])
        #expect(streams.count == 2)
        let engines = streams.compactMap { $0["engine"] as? [String: Any] }
        #expect(engines.map { $0["direction"] as? String } == ["render", "capture"])
        #expect(engines.allSatisfy { $0["converterFormat"] as? String == "0x4031" })
        // 0.25 s of 8-byte blocks through 16 KiB buffers with two IOCs per pass.
        #expect(streams.allSatisfy { ($0["notifications"] as? Int ?? 0) >= 2 * (11025 * 8 / 16384) })
        #expect(streams.allSatisfy { ($0["buffer"] as? [String: Any])?["notificationsPerBuffer"] as? Int == 2 })
        #expect((path["speed"] as? Double ?? 0) > 0)
        #expect(path["verbPath"] as? String == "corb")
        #expect((path["verbs"] as? Int ?? 0) > 20)
    }

    @Test("The comparison is real: an ADC programmed with the wrong format makes the demo fail")
    func faultMakesItFail() throws {
        let run = try azalia("demo", "--seconds", "0.1", "--fault", "adc-format")
        #expect(run.status == 1)
        #expect(run.stdout.contains("Captured == rendered: NO"))
        #expect(errorLine(run)?.contains("differs from the rendered audio") == true)
        let json = try azalia("demo", "--seconds", "0.1", "--fault", "dac-format", "--json")
        #expect(json.status == 1)
        let path = try #require(try jsonObject(json.stdout)["path"] as? [String: Any])
        #expect(path["bitExact"] as? Bool == false)
        #expect((path["codecFormatMismatches"] as? Int ?? 0) > 0)
    }

    @Test("--out writes the captured audio: the test signal, sample for sample")
    func out() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("loop.wav").path
        let run = try azalia("demo", "--seconds", "0.2", "--format", "22050/8/3", "--out", file)
        #expect(run.status == 0)
        let wav = try WAVFile.read(path: file)
        let format = StreamFormat(rate: 22050, bits: 8, channels: 3)
        #expect(wav.format == WAVFormat(format))
        let expected = try SampleConversion.wavBytes(fromMemory: AudioPath.testSignal(format: format, blocks: 4410), stream: format)
        #expect(wav.data == expected)
    }

    @Test("Striping on the 4-SDO profile charges every line; BDL and BASE interfaces run too")
    func variants() throws {
        let striped = try azalia("demo", "--seconds", "0.1", "--profile", "azalia-bidi", "--format", "192000/16/4", "--stripe")
        #expect(striped.status == 0)
        #expect(striped.stdout.contains("bits/frame on SDO0-SDO3"))
        #expect(striped.stdout.contains("yes, bit for bit"))
        let bdl = try azalia("demo", "--seconds", "0.1", "--interface", "bdl")
        #expect(bdl.status == 0)
        #expect(bdl.stdout.contains("ISR calls"))
        #expect(bdl.stdout.contains("BDL interface"))
        let base = try azalia("demo", "--seconds", "0.1", "--interface", "base")
        #expect(base.status == 0)
        #expect(base.stdout.contains("BASE polls the position"))
    }

    @Test("--trace writes a Chrome trace with DDI calls and statuses, states, notifications and positions")
    func trace() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("demo.json")
        let run = try azalia("demo", "--seconds", "0.2", "--trace", url.path)
        #expect(run.status == 0)
        let events = try traceEvents(url)
        let ddi = events.filter { $0["cat"] as? String == "ddi" }
        let names = Set(ddi.compactMap { $0["name"] as? String })
        #expect(names.isSuperset(of: ["AllocateRenderDmaEngine", "AllocateCaptureDmaEngine", "AllocateDmaBufferWithNotification",
                                      "RegisterNotificationEvent", "SetDmaEngineState", "FreeDmaBufferWithNotification", "FreeDmaEngine"]))
        #expect(ddi.allSatisfy { ($0["args"] as? [String: Any])?["status"] as? String == "STATUS_SUCCESS" })
        let notifications = events.filter { $0["cat"] as? String == "notification" }
        #expect(!notifications.isEmpty)
        // Notifications sit on the engines' timelines (100 + index), in link time.
        #expect(Set(notifications.compactMap { $0["tid"] as? Int }) == [100, 104])
        #expect(events.contains { $0["cat"] as? String == "state" && $0["name"] as? String == "RunState" })
        let counters = events.filter { $0["ph"] as? String == "C" }
        #expect(counters.count > 10)
        #expect(events.contains { $0["ph"] as? String == "M" && $0["name"] as? String == "thread_name" })
        // Codec verbs went through TransferCodecVerbs, each with its response.
        let verbs = events.filter { $0["cat"] as? String == "verb" }
        #expect(verbs.count > 20)
        #expect(verbs.allSatisfy { ($0["args"] as? [String: Any])?["valid"] as? String == "true" })
    }

    @Test("Errors are one line on standard error with a non-zero exit", arguments: [
        (["demo", "--format", "48000/16"], "is not RATE/BITS/CHANNELS"),
        (["demo", "--format", "44000/16/2"], "cannot be encoded"),
        (["demo", "--format", "48000/12/2"], "cannot be encoded"),
        (["demo", "--format", "192000/32/16"], "AllocateRenderDmaEngine returned STATUS_BUFFER_TOO_SMALL (0xC0000023)"),
        (["demo", "--profile", "azalia-bidi", "--format", "96000/32/8"], "AllocateCaptureDmaEngine returned STATUS_BUFFER_TOO_SMALL"),
        (["demo", "--seconds", "0.1", "--out", "/nonexistent-dir/x.wav"], "/nonexistent-dir/x.wav"),
    ])
    func errors(_ arguments: [String], _ message: String) throws {
        let run = try azalia(arguments: arguments)
        #expect(run.status == 1)
        let line = try #require(errorLine(run), "stderr: \(run.stderr)")
        #expect(line.hasPrefix("azalia: error: "))
        #expect(line.contains(message))
    }

    @Test("Argument mistakes are usage errors (exit 64)", arguments: [
        ["demo", "--seconds", "0"], ["demo", "--seconds", "601"], ["demo", "--interface", "v3"], ["demo", "--fault", "melt"],
        ["demo", "--buffer-bytes", "0"], ["demo", "--verbs", "smoke-signals"],
    ])
    func usageErrors(_ arguments: [String]) throws {
        let run = try azalia(arguments: arguments)
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("Error: "))
        #expect(run.stdout.isEmpty)
    }

    @Test("--help shows examples and the allowed values")
    func help() throws {
        let run = try azalia("demo", "--help")
        #expect(run.status == 0)
        for text in ["Examples:", "azalia demo --profile", "ich6", "skylake-pch", "azalia-bidi", "base, v2, bdl", "adc-format", "RATE/BITS/CHANNELS", "corb"] {
            #expect(run.stdout.contains(text), "\(text) missing")
        }
    }


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

    @Test("The demo's comparison of a real signal is real: a DAC fault on a 0.05 s signal is caught (probe)")
    func demoFaultCaught() throws {
        let run = try azalia("demo", "--seconds", "0.05", "--fault", "dac-format", "--json")
        #expect(run.status == 1)
        let path = try #require(try jsonObject(run.stdout)["path"] as? [String: Any])
        #expect(path["bitExact"] as? Bool == false)
        #expect(run.stderr.hasPrefix("azalia: error:"))
    }

    @Test("A long demo with --json prints valid JSON and no progress on either stream")
    func longDemoJSON() throws {
        let run = try azalia("demo", "--seconds", "10", "--json")
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        let report = try jsonObject(run.stdout)
        #expect((report["path"] as? [String: Any])?["bitExact"] as? Bool == true)
    }
}
