import ArgumentParser
import Azalia
import Foundation
import HDACodec
import HDAController
import HDAudio

/// Options shared by demo, play and record: where the path runs and what it records.
struct PathOptions: ParsableArguments {
    @Option(help: "Controller profile.")
    var profile: ControllerProfile = .default

    @Option(help: "DDI version the function driver opens.")
    var interface: DDIInterface = .v2

    @Flag(help: "Ask for the render stream to be striped over every SDO line (profiles with 2 or 4 lines).")
    var stripe = false

    @Option(help: "How codec verbs travel: corb (TransferCodecVerbs over CORB/RIRB) or direct (straight to the codec).")
    var verbs: VerbPath = .corb

    @Option(help: "DMA buffer size to ask the bus for, in bytes.")
    var bufferBytes: Int = 16 * 1024

    @Option(help: "Write a Chrome trace event file (open in Perfetto or chrome://tracing).")
    var trace: String?

    @OptionGroup var codec: CodecOption

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard bufferBytes > 0, bufferBytes <= 1 << 20 else { throw ValidationError("--buffer-bytes must be 1 to 1048576") }
    }

    /// The library's options, with a trace recorder when --trace was given and the codec
    /// dump --codec names (a dump that does not load is one line naming the file and line).
    func pathOptions() throws -> AudioPathOptions {
        var o = AudioPathOptions()
        o.interface = interface
        o.stripe = stripe
        o.verbPath = verbs
        o.requestedBufferBytes = bufferBytes
        if trace != nil { o.trace = TraceRecorder() }
        o.codecDump = try codec.load()
        return o
    }
}

/// `--codec FILE[#N]`, shared by demo, play, record, plan and vm: a real chip's dump in place
/// of Azalia's own codec.
struct CodecOption: ParsableArguments {
    @Option(name: .customLong("codec"),
            help: ArgumentHelp("A real codec instead of Azalia's: a Linux codec dump (/proc/asound/cardN/codec#M or an alsa-info report), FILE or FILE#N for its N-th codec.", valueName: "file[#n]"))
    var spec: String?

    /// The dump named, nil without --codec; a dump that does not load is one line naming the file and line.
    func load() throws -> CodecDump? {
        try spec.map(loadCodecDump)
    }
}

/// Reads a codec dump (`FILE` or `FILE#N`); failures are one line naming the file and line.
func loadCodecDump(_ spec: String) throws -> CodecDump {
    do throws(CodecDumpError) { return try CodecDump.load(spec) } catch { throw CLIFailure(error.reason) }
}

/// Reads a WAV file; a missing or malformed file is one clear line.
func readWAV(_ path: String) throws -> WAVFile {
    guard FileManager.default.fileExists(atPath: path) else { throw CLIFailure("\(path): no such file") }
    do {
        return try WAVFile.read(path: path)
    } catch {
        throw CLIFailure("\(path): not a WAV file Azalia can read: \(error)")
    }
}

/// Opens a WAV file for streaming (its header read, its samples not yet); a missing or
/// malformed file is one clear line.
func openWAV(_ path: String) throws -> WAVReader {
    guard FileManager.default.fileExists(atPath: path) else { throw CLIFailure("\(path): no such file") }
    do {
        return try WAVReader(path: path)
    } catch {
        throw CLIFailure("\(path): not a WAV file Azalia can read: \(error)")
    }
}

/// Writes a WAV file, or fails with one line.
func writeWAV(_ file: WAVFile, to path: String) throws {
    do { try file.write(path: path) } catch { throw CLIFailure("\(path): \(error)") }
}

/// Writes the trace, if one was recorded.
func writeTrace(_ recorder: TraceRecorder?, to path: String?) throws {
    guard let recorder, let path else { return }
    do { try recorder.write(to: URL(fileURLWithPath: path)) } catch {
        throw CLIFailure("\(path): cannot write the trace: \(error.localizedDescription)")
    }
}

/// Runs a path, turning its errors into one-line failures. A trace asked for is written
/// even when the run fails, so the refused call and its status can be seen in it.
func runPath<R>(tracing recorder: TraceRecorder?, to tracePath: String?,
                _ body: () throws(AudioPathError) -> R) throws -> R {
    do {
        return try body()
    } catch {
        try? writeTrace(recorder, to: tracePath)
        switch error {
        case .driver(.ddi(let routine, let status)):
            throw CLIFailure("the bus refused: \(routine) returned \(status)")
        default:
            throw CLIFailure("\(error)")
        }
    }
}

/// A progress reporter fed by the library's progress closure.
func progressClosure(_ reporter: ProgressReporter) -> (AudioProgress) -> Void {
    { p in reporter.update(done: UInt64(p.done), total: UInt64(p.total)) }
}

/// The human-readable report of a path: engines, buffers, notifications, positions, speed.
func printPath(_ r: AudioPathReport) {
    print("Engines:")
    for s in r.streams {
        let e = s.engine
        print("  \(pad(e.direction, 8)) \(e.kind) engine \(e.index), tag \(e.tag), \(e.format), converter format \(e.converterFormat), "
              + "FIFO \(e.fifoSize) bytes, \(e.bitsPerLine) bits/frame on \(e.lines)")
    }
    print("Buffers:")
    for s in r.streams {
        let b = s.buffer
        print("  \(pad(s.engine.direction, 8)) \(b.bytes) bytes (asked \(b.requestedBytes)), \(b.pages) page\(b.pages == 1 ? "" : "s"), "
              + "\(b.bdlEntries) BDL entries, \(b.notificationsPerBuffer) IOC per pass")
    }
    print("Events:")
    for s in r.streams {
        let what = r.interface == .bdl ? "\(s.interrupts) ISR calls" : r.interface == .v2 ? "\(s.notifications) notifications" : "none (BASE polls the position)"
        print("  \(pad(s.engine.direction, 8)) \(what)")
    }
    print("Final positions:")
    for s in r.streams {
        print("  \(pad(s.engine.direction, 8)) \(s.finalPosition) of \(s.buffer.bytes) bytes (\(s.bytesMoved) bytes moved in all)")
    }
    print("Codec: \(r.verbs) verbs sent (\(r.verbPath == .corb ? "TransferCodecVerbs over CORB/RIRB" : "straight to the codec")), \(r.codecFormatMismatches) packets refused for a format mismatch")
}

/// The speed line.
func speedLine(_ r: AudioPathReport) -> String {
    "Speed: \(decimal(r.linkSeconds)) s of link time (\(r.frames) frames) in \(decimal(r.wallSeconds)) s: \(decimal(r.speed))x real time"
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

func decimal(_ v: Double) -> String {
    v >= 100 ? String(Int(v.rounded())) : String(format: "%.3g", v)
}

/// Why a run is not bit-exact, in words: the first block that differs, and the packets the
/// codec refused for a format mismatch (a refused packet is never vouched for).
func differenceSummary(_ r: AudioPathReport) -> String {
    var parts: [String] = []
    if let block = r.firstDifferentBlock { parts.append("first difference at block \(block)") }
    if r.codecFormatMismatches > 0 {
        parts.append("the codec refused \(r.codecFormatMismatches) packet\(r.codecFormatMismatches == 1 ? "" : "s") for a format mismatch")
    }
    return parts.isEmpty ? "differs" : parts.joined(separator: "; ")
}
