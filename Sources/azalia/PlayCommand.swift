import ArgumentParser
import Azalia
import Foundation
import HDACodec
import HDAController
import HDAudio

/// `azalia play`: render a WAV file through the whole path into the codec's DAC.
struct PlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Render a WAV file through the DDI, the controller's DMA and the link into the codec's DAC.",
        discussion: """
            A function driver opens the interface, allocates a render engine with the file's format, \
            programs the DAC with the stream id and converter format the bus returned, writes the \
            samples into the DMA buffer ahead of the engine (refilling on notifications with v2, in \
            its ISR's wake with bdl, from the position register with base), pads the end with \
            silence and stops once every sample has played. The DAC's sink must receive the file \
            sample for sample (checked; a difference is an error); --out writes what it received.

            WAV: integer PCM, 8, 16, 24 or 32-bit, 1 to 16 channels, a rate HD Audio can encode.
            Profiles: \(ControllerProfile.all.map(\.name).joined(separator: ", ")). Interfaces: base, v2, bdl.

            Examples:
              azalia play speech.wav
              azalia play music.wav --out played.wav --interface bdl
              azalia play surround.wav --profile azalia-bidi --stripe --trace play.json
            """)

    @Argument(help: "The WAV file to play.")
    var input: String

    @Option(help: "Write what the DAC's sink received to this WAV file.")
    var out: String?

    @OptionGroup var path: PathOptions

    /// For `azalia bench`: the process's own peak RSS, printed last on standard error. (A
    /// parent's `wait4` cannot give it: Linux carries the spawning process's peak into the
    /// child's `ru_maxrss` across exec.)
    @Flag(help: .hidden)
    var peakMemory = false

    func run() throws {
        try reportingFailures {
            let profile = path.profile
            let wav = try openWAV(input)
            let options = try path.pathOptions()
            let seconds = Double(wav.blockCount) / Double(max(1, wav.format.sampleRate))
            let progress = ProgressReporter(label: "play", enabled: !path.json && seconds >= 10)
            let output: AudioPathOutput = out.map { .file($0) } ?? .none
            let r = try runPath(tracing: options.trace, to: path.trace) { () throws(AudioPathError) in
                try AudioPath.play(wav, output: output, profile: profile, options: options, progress: progressClosure(progress))
            }
            progress.finish()
            try writeTrace(options.trace, to: path.trace)
            if path.json {
                try printJSON(r)
            } else {
                print("Played \(input): \(wav.format), \(r.blocks) blocks as \(r.format) on \(r.profile), \(r.interface.rawValue.uppercased()) interface")
                printPath(r)
                print("Sink == input: \(r.bitExact ? "yes, sample for sample" : "NO, \(differenceSummary(r))")")
                print(speedLine(r))
                if let out { print("Written to \(out)") }
                if let t = path.trace { print("Trace written to \(t)") }
            }
            if peakMemory, let line = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)
                .split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) {
                FileHandle.standardError.write(Data("\(line)\n".utf8))
            }
            if !r.bitExact {
                throw CLIFailure("the DAC received audio that differs from \(input) (\(differenceSummary(r)))")
            }
        }
    }
}
