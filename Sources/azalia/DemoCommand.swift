import ArgumentParser
import Azalia
import Foundation
import HDACodec
import HDAController
import HDAudio

/// `azalia demo`: the main job. Render a test signal into a DAC, loop it back into an ADC,
/// capture it, and show what happened on the bus.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Loop a test signal from a render engine through the codec back into a capture engine, and show every step.",
        discussion: """
            On the built-in default (the ich6 profile, a virtual codec at address 0, a 440 Hz tone per \
            channel), a function driver opens a V2 interface, allocates a render and a capture engine, \
            a buffer with two notifications for each, programs the codec's DAC and ADC with the stream \
            id and converter format the bus returned, and runs both engines together for --seconds of \
            link time, with the DAC looped back into the ADC. It prints the engines (type, index, tag, \
            format, converter format, FIFO size, bandwidth charged per line), the buffers (size, pages, \
            BDL entries), notifications, final positions, whether the captured audio equals the \
            rendered audio bit for bit (compared sample by sample after the loopback's latency), and \
            how fast the simulation ran. A mismatch is an error (exit status 1).

            Profiles: \(ControllerProfile.all.map(\.name).joined(separator: ", ")).
            Interfaces: base, v2, bdl. Formats: RATE/BITS/CHANNELS (see `azalia format --help`).
            Faults (--fault): none, dac-format, adc-format (program a converter with the wrong format).

            Examples:
              azalia demo
              azalia demo --profile azalia-bidi --format 192000/16/4 --stripe --seconds 1
              azalia demo --format 44100/16/2 --out loop.wav --trace demo.json
              azalia demo --interface bdl --json
            """)

    @OptionGroup var path: PathOptions

    @Option(help: "Stream format, RATE/BITS/CHANNELS.")
    var format: String = "48000/16/2"

    @Option(help: "Link time to run, in seconds (up to 600).")
    var seconds: Double = 3

    @Option(help: "Write the captured audio to this WAV file.")
    var out: String?

    @Option(help: "Inject a fault: none, dac-format or adc-format.")
    var fault: ConverterFault = .none

    func validate() throws {
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be above 0 and at most 600") }
    }

    /// The JSON report.
    struct Report: Encodable {
        var signal: String
        var seconds: Double
        var path: AudioPathReport
    }

    func run() throws {
        try reportingFailures {
            let profile = path.profile
            let stream = try parseFormat(format)
            var options = try path.pathOptions()
            options.fault = fault
            let blocks = Int((seconds * Double(stream.sampleRate)).rounded())
            // A bit-exact claim needs something to compare: at least one link frame's worth.
            guard blocks >= max(1, Int(stream.sampleRate / 48000)) else {
                throw CLIFailure("--seconds \(seconds) holds no whole sample block at \(stream.sampleRate) Hz: nothing to compare")
            }
            // The signal is made block by block as the run needs it: nothing of it exists
            // before the DDI has accepted the format and allocated the engines and buffers.
            let progress = ProgressReporter(label: "demo", enabled: !path.json && seconds >= 10)
            let output: AudioPathOutput = out.map { .file($0) } ?? .none
            let r = try runPath(tracing: options.trace, to: path.trace) { () throws(AudioPathError) in
                try AudioPath.loopback(testSignalBlocks: blocks, format: stream, output: output, profile: profile, options: options,
                                       progress: progressClosure(progress))
            }
            progress.finish()
            try writeTrace(options.trace, to: path.trace)
            if path.json {
                try printJSON(Report(signal: "440 Hz x (channel + 1) sine, half scale", seconds: seconds, path: r))
            } else {
                print("Azalia demo: \(profile.name) (\(profile.summary)), \(r.interface.rawValue.uppercased()) interface, codec at address 0")
                print("Signal: \(stream.compact), \(decimal(seconds)) s = \(blocks) blocks, 440 Hz x (channel + 1) sine; DAC looped back into ADC")
                printPath(r)
                print("Loopback latency: \(r.latencyBlocks ?? 0) blocks")
                if r.bitExact {
                    print("Captured == rendered: yes, bit for bit (\(r.blocks) blocks compared)")
                } else {
                    print("Captured == rendered: NO, \(differenceSummary(r))")
                }
                print(speedLine(r))
                if let out { print("Captured audio written to \(out)") }
                if let t = path.trace { print("Trace written to \(t)") }
            }
            if !r.bitExact {
                throw CLIFailure("the captured audio differs from the rendered audio (\(differenceSummary(r)))")
            }
        }
    }
}

/// Parses RATE/BITS/CHANNELS and checks that it can be encoded.
func parseFormat(_ text: String) throws -> StreamFormat {
    guard let f = StreamFormat(compact: text) else {
        throw CLIFailure("'\(text)' is not RATE/BITS/CHANNELS (for example 48000/16/2)")
    }
    if let problem = f.problem {
        throw CLIFailure("format \(text) cannot be encoded: \(problem) (\(NTStatus.invalidParameter))")
    }
    return f
}
