import Foundation
public import HDACodec
public import HDAController
public import HDAudio
import HDAudioBus
import Synchronization

/// The end-to-end audio path as a function driver runs it: play a WAV file through a DAC,
/// record one through an ADC, or loop a signal from a DAC back into an ADC.
///
/// Each call builds a system (a controller of the profile with one codec: a `VirtualCodec`,
/// or a `DumpCodec` when the options name a dump, its default output and input pins then
/// holding the sink and source), opens
/// an interface, allocates engines with the stream format, programs the codec's converters
/// with the converter format and stream id the bus returned (through a `CodecVerbSender`),
/// allocates the buffer the interface offers, moves samples between the WAV data and the
/// DMA pages in the HD Audio memory layout, runs the engines, advances link time in steps
/// while keeping ahead of them, pads the end with silence, stops once every real sample
/// has gone through, and then resets, frees and closes everything.
///
/// The paths stream: the input is read (or the test signal made) a buffer at a time as the
/// engines need it, the output is compared with the input as it arrives, and written (to a
/// file, as it arrives) only when asked for. Memory does not grow with the length of the
/// audio: a 4 GiB WAV file plays in the memory a short one does.
public enum AudioPath {
    /// Renders the WAV file `reader` reads: the DAC's sink receives it and compares it with
    /// the file as it arrives; `output` says where what it received goes.
    public static func play(_ reader: WAVReader, output: AudioPathOutput = .none, profile: ControllerProfile = .default,
                            options: AudioPathOptions = .init(),
                            progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathReport {
        let stream = try streamFormat(reader.format)
        let writer = try output.writer(stream: stream, as: reader.format)
        return try play(reader, stream: stream, writer: writer, profile: profile, options: options, progress: progress).report
    }

    /// Renders a WAV file held in memory: the DAC's sink receives it; `output` is what it received.
    public static func play(_ file: WAVFile, profile: ControllerProfile = .default, options: AudioPathOptions = .init(),
                            progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathResult {
        let stream = try streamFormat(file.format)
        let reader: WAVReader
        do { reader = try WAVReader(file: file) } catch { throw .wav(error) }
        let run = try play(reader, stream: stream, writer: PathOutputWriter(memoryOf: stream, as: file.format),
                           profile: profile, options: options, progress: progress)
        return AudioPathResult(report: run.report, output: WAVFile(format: file.format, data: run.output))
    }

    /// What `play` did: its report, the output kept in memory (if any), and the most bytes
    /// held between reading the file and the sink's comparison.
    struct PlayRun {
        var report: AudioPathReport
        var output: [UInt8]
        var peakInFlightBytes: Int
    }

    static func play(_ reader: WAVReader, stream: StreamFormat, writer: PathOutputWriter?, profile: ControllerProfile,
                     options: AudioPathOptions, progress: ((AudioProgress) -> Void)?) throws(AudioPathError) -> PlayRun {
        // The file is read once, as the client refills the buffer; the sink compares what
        // it receives with those blocks (kept only until it has).
        let render = TeeSignal(try WAVSignal(reader.reopened(), format: stream))
        let sink = ComparingSink(expected: render.follower(), output: writer)
        do throws(AudioPathError) {
            let bridge = CodecTraceBridge()
            let codec = options.makeCodec(tracingTo: bridge)
            guard codec.connectDefaultOutput(sink) else { throw .driver(.codecLacks("output path (a DAC reaching an output pin)")) }
            let runner = try PathRunner(profile: profile, codec: codec, codecTrace: bridge, options: options)
            let report = try runner.run(format: stream, render: render, captureBlocks: nil, progress: progress)
            let (same, first, data) = try sink.close()
            return PlayRun(report: finish(report, same: same, firstDifferentBlock: first, latency: nil), output: data,
                           peakInFlightBytes: render.peakBytes)
        } catch {
            sink.discard()
            throw error
        }
    }

    /// Records the WAV file `reader` reads: the ADC's source plays it, the client copies it
    /// out of the DMA buffer and compares it with the file as it goes; `output` says where
    /// the recording goes.
    public static func record(from reader: WAVReader, output: AudioPathOutput = .none, profile: ControllerProfile = .default,
                              options: AudioPathOptions = .init(),
                              progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathReport {
        let stream = try streamFormat(reader.format)
        let writer = try output.writer(stream: stream, as: reader.format)
        return try record(reader, stream: stream, writer: writer, profile: profile, options: options, progress: progress)
    }

    /// Records a WAV file held in memory: the ADC's source plays it, the client copies it
    /// out of the DMA buffer; `output` is what the client recorded.
    public static func record(from file: WAVFile, profile: ControllerProfile = .default, options: AudioPathOptions = .init(),
                              progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathResult {
        let stream = try streamFormat(file.format)
        let reader: WAVReader
        do { reader = try WAVReader(file: file) } catch { throw .wav(error) }
        let writer = PathOutputWriter(memoryOf: stream, as: file.format)
        let report = try record(reader, stream: stream, writer: writer, profile: profile, options: options, progress: progress)
        return AudioPathResult(report: report, output: WAVFile(format: file.format, data: writer.data))
    }

    static func record(_ reader: WAVReader, stream: StreamFormat, writer: PathOutputWriter?, profile: ControllerProfile,
                       options: AudioPathOptions, progress: ((AudioProgress) -> Void)?) throws(AudioPathError) -> AudioPathReport {
        do throws(AudioPathError) {
            // The file is read once, as the ADC asks for it; the client compares what it
            // copies out with those blocks (kept only until it has).
            let tee = TeeSignal(try WAVSignal(reader.reopened(), format: stream))
            let source = SignalSource(tee)
            let comparer = StreamComparer(expected: tee.follower())
            let bridge = CodecTraceBridge()
            let codec = options.makeCodec(tracingTo: bridge)
            guard codec.connectDefaultInput(source) else { throw .driver(.codecLacks("input path (an input pin reaching an ADC)")) }
            let runner = try PathRunner(profile: profile, codec: codec, codecTrace: bridge, options: options)
            runner.capture = { (bytes) throws(AudioPathError) in
                let kept = try comparer.compare(bytes)
                writer?.write(UnsafeRawBufferPointer(rebasing: bytes[0..<kept]))
            }
            let report = try runner.run(format: stream, render: nil, captureBlocks: reader.blockCount, progress: progress)
            if let error = source.error { throw error }
            try writer?.finish()
            return finish(report, same: comparer.same, firstDifferentBlock: comparer.firstDifferentBlock, latency: nil)
        } catch {
            writer?.discard()
            throw error
        }
    }

    /// Loops the test signal (see `testSignal`) for `blocks` blocks of `format` from a
    /// render engine through the codec's DAC, a fixed-latency loopback and its ADC into a
    /// capture engine, both started together; the capture, less the latency, is compared
    /// bit for bit with the signal as the link carries it as it is copied out. The signal
    /// is made block by block as the render buffer is refilled, so nothing of it exists
    /// before the DDI has accepted the format and allocated the engines and buffers.
    public static func loopback(testSignalBlocks blocks: Int, format: StreamFormat, output: AudioPathOutput = .none,
                                profile: ControllerProfile = .default, options: AudioPathOptions = .init(),
                                progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathReport {
        guard format.isValid, let render = ToneSignal(format: format.dmaFormat, blocks: blocks),
              let expected = ToneSignal(format: format.dmaFormat, blocks: blocks) else {
            throw .invalidFormat(format)
        }
        let writer = try output.writer(stream: format.dmaFormat, as: WAVFormat(format))
        return try loopback(render: render, expected: expected, format: format, writer: writer, profile: profile,
                            options: options, progress: progress)
    }

    /// Loops `signal` (memory layout of `format`, whole blocks) from a render engine through
    /// the codec's DAC, a fixed-latency loopback and its ADC into a capture engine, both
    /// started together; the captured audio, less the latency, is compared bit for bit
    /// with the signal as the link carries it.
    public static func loopback(signal: [UInt8], format: StreamFormat, profile: ControllerProfile = .default,
                                options: AudioPathOptions = .init(),
                                progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathResult {
        guard format.isValid else { throw .invalidFormat(format) }
        let wav = WAVFormat(format)
        let writer = PathOutputWriter(memoryOf: format.dmaFormat, as: wav)
        let report = try loopback(render: MemorySignal(signal, layout: format, format: format.dmaFormat),
                                  expected: MemorySignal(signal, layout: format, format: format.dmaFormat),
                                  format: format, writer: writer, profile: profile, options: options, progress: progress)
        return AudioPathResult(report: report, output: WAVFile(format: wav, data: writer.data))
    }

    /// The loopback of `render` (the DMA layout of `format`), compared with `expected`.
    static func loopback(render: any PathSignal, expected: any PathSignal, format: StreamFormat, writer: PathOutputWriter?,
                         profile: ControllerProfile, options: AudioPathOptions,
                         progress: ((AudioProgress) -> Void)?) throws(AudioPathError) -> AudioPathReport {
        guard format.isValid else { throw .invalidFormat(format) }
        do throws(AudioPathError) {
            let dma = format.dmaFormat
            // The loopback carries what the link carries: the natural layout of the valid bits.
            // Its latency is set by the run once the buffers, and so the step, are known.
            let bridge = CodecTraceBridge()
            let codec = options.makeCodec(tracingTo: bridge)
            let delay = DelayLine(format: dma, delayBlocks: 0)
            guard codec.connectDefaultOutput(delay) else { throw .driver(.codecLacks("output path (a DAC reaching an output pin)")) }
            guard codec.connectDefaultInput(delay) else { throw .driver(.codecLacks("input path (an input pin reaching an ADC)")) }
            let runner = try PathRunner(profile: profile, codec: codec, codecTrace: bridge, options: options)
            runner.loopback = delay
            let comparer = StreamComparer(expected: expected)
            // The first latencyBlocks blocks captured are the loopback's silence.
            var skipped = 0
            runner.capture = { [unowned runner] (bytes) throws(AudioPathError) in
                let skip = min(bytes.count, runner.latencyBlocks * dma.blockBytes - skipped)
                skipped += skip
                let rest = UnsafeRawBufferPointer(rebasing: bytes[skip...])
                let kept = try comparer.compare(rest)
                writer?.write(UnsafeRawBufferPointer(rebasing: rest[0..<kept]))
            }
            let report = try runner.run(format: format, render: render, captureBlocks: expected.blocks, progress: progress)
            try writer?.finish()
            return finish(report, same: comparer.same, firstDifferentBlock: comparer.firstDifferentBlock, latency: runner.latencyBlocks)
        } catch {
            writer?.discard()
            throw error
        }
    }

    /// A deterministic test signal: a sine per channel (channel c at 440 x (c + 1) Hz, half
    /// scale) for `blocks` blocks of `format`, in its memory layout (see `ToneSignal` for
    /// the exact values; the demo makes the same signal block by block).
    public static func testSignal(format: StreamFormat, blocks: Int) -> [UInt8] {
        guard blocks > 0, let tone = ToneSignal(format: format, blocks: blocks) else { return [] }
        var data = [UInt8](repeating: 0, count: blocks * format.blockBytes)
        data.withUnsafeMutableBytes { _ = try? tone.read(into: $0, blocks: blocks) }
        return data
    }

    /// The stream format that carries a WAV layout (the layout checked).
    static func streamFormat(_ format: WAVFormat) throws(AudioPathError) -> StreamFormat {
        do { try format.validate() } catch { throw .wav(error) }
        guard let stream = format.streamFormat else {
            throw .unencodable("\(format.sampleRate) Hz cannot be encoded as an HD Audio rate (\(NTStatus.invalidParameter))")
        }
        return stream
    }

    /// The report of a run with the comparison's verdict. Bit-exact needs equal bytes AND no
    /// packet refused by a converter (or the loopback): a refused packet's samples never
    /// reached the output, and equal bytes then only mean that the signal was silence where
    /// it was refused (a one-block sine is).
    static func finish(_ report: AudioPathReport, same: Bool, firstDifferentBlock: Int?, latency: Int?) -> AudioPathReport {
        var r = report
        r.bitExact = same && r.codecFormatMismatches == 0
        if !same {
            r.firstDifferentBlock = firstDifferentBlock ?? 0
        } else if !r.bitExact {
            // No byte differs, yet packets were refused: no block can be vouched for.
            r.firstDifferentBlock = 0
        }
        r.latencyBlocks = latency
        return r
    }
}

extension AudioPathOutput {
    /// The writer for this output: nil for `.none`; a file created now (so an unwritable
    /// path fails before the run).
    func writer(stream: StreamFormat, as wav: WAVFormat) throws(AudioPathError) -> PathOutputWriter? {
        switch self {
        case .none: return nil
        case .file(let path): return try PathOutputWriter(path: path, stream: stream, as: wav)
        }
    }
}
