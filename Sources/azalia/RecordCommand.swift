import ArgumentParser
import Azalia
import Foundation
import HDACodec
import HDAController
import HDAudio

/// `azalia record`: capture a WAV file through the codec's ADC and the whole path.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Capture through the codec's ADC (playing --from), the link, the controller's DMA and the DDI into --out.",
        discussion: """
            The codec's ADC takes its samples from --from; a function driver allocates a capture engine \
            with that file's format, programs the ADC with the stream id and converter format the bus \
            returned, runs the engine and copies the samples out of the DMA buffer behind the position \
            until every sample is in, then writes --out trimmed to the input's length. The recording \
            must equal --from sample for sample (checked; a difference is an error).

            WAV: integer PCM, 8, 16, 24 or 32-bit, 1 to 16 channels, a rate HD Audio can encode.
            Profiles: \(ControllerProfile.all.map(\.name).joined(separator: ", ")). Interfaces: base, v2, bdl.

            Examples:
              azalia record --from speech.wav --out recorded.wav
              azalia record --from speech.wav --out recorded.wav --interface base --json
              azalia record --from in.wav --out out.wav --trace record.json
            """)

    @Option(help: "The WAV file the codec's ADC records from.")
    var from: String

    @Option(help: "The WAV file to write the recording to.")
    var out: String

    @OptionGroup var path: PathOptions

    func run() throws {
        try reportingFailures {
            let profile = path.profile
            let wav = try openWAV(from)
            let options = try path.pathOptions()
            let seconds = Double(wav.blockCount) / Double(max(1, wav.format.sampleRate))
            let progress = ProgressReporter(label: "record", enabled: !path.json && seconds >= 10)
            let output = AudioPathOutput.file(out)
            let r = try runPath(tracing: options.trace, to: path.trace) { () throws(AudioPathError) in
                try AudioPath.record(from: wav, output: output, profile: profile, options: options, progress: progressClosure(progress))
            }
            progress.finish()
            try writeTrace(options.trace, to: path.trace)
            if path.json {
                try printJSON(r)
            } else {
                print("Recorded \(out) from \(from): \(wav.format), \(r.blocks) blocks as \(r.format) on \(r.profile), \(r.interface.rawValue.uppercased()) interface")
                printPath(r)
                print("Recording == source: \(r.bitExact ? "yes, sample for sample" : "NO, \(differenceSummary(r))")")
                print(speedLine(r))
                if let t = path.trace { print("Trace written to \(t)") }
            }
            if !r.bitExact {
                throw CLIFailure("the recording differs from \(from) (\(differenceSummary(r)))")
            }
        }
    }
}
