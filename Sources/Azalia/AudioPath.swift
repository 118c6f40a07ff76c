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
public enum AudioPath {
    /// Renders a WAV file: the DAC's sink receives it; `output` is what it received.
    public static func play(_ file: WAVFile, profile: ControllerProfile = .default, options: AudioPathOptions = .init(),
                            progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathResult {
        let (stream, memory) = try prepare(file)
        let blocks = memory.count / stream.blockBytes
        let sink = RecordingSink(limit: blocks)
        let bridge = CodecTraceBridge()
        let codec = options.makeCodec(tracingTo: bridge)
        guard codec.connectDefaultOutput(sink) else { throw .driver(.codecLacks("output path (a DAC reaching an output pin)")) }
        let runner = try PathRunner(profile: profile, codec: codec, codecTrace: bridge, options: options)
        let report = try runner.run(format: stream, render: memory, captureBlocks: nil, progress: progress)
        // The DAC received the layout the engine moved (SDnFMT's natural containers).
        let out = PathRunner.clientLayout(sink.data, format: stream)
        return try finish(report: report, stream: stream, file: file, outMemory: out, expectedMemory: memory, latency: nil)
    }

    /// Records a WAV file: the ADC's source plays it, the client copies it out of the DMA
    /// buffer; `output` is what the client recorded.
    public static func record(from file: WAVFile, profile: ControllerProfile = .default, options: AudioPathOptions = .init(),
                              progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathResult {
        let (stream, memory) = try prepare(file)
        let blocks = memory.count / stream.blockBytes
        let source: WAVFileSource
        do { source = try WAVFileSource(file: WAVFile(format: file.format, data: Array(file.data.prefix(blocks * file.format.blockAlign)))) }
        catch { throw .wav(error) }
        let bridge = CodecTraceBridge()
        let codec = options.makeCodec(tracingTo: bridge)
        guard codec.connectDefaultInput(source) else { throw .driver(.codecLacks("input path (an input pin reaching an ADC)")) }
        let runner = try PathRunner(profile: profile, codec: codec, codecTrace: bridge, options: options)
        let report = try runner.run(format: stream, render: nil, captureBlocks: blocks, progress: progress)
        return try finish(report: report, stream: stream, file: file, outMemory: runner.captured, expectedMemory: memory, latency: nil)
    }

    /// Loops `signal` (memory layout of `format`, whole blocks) from a render engine through
    /// the codec's DAC, a fixed-latency loopback and its ADC into a capture engine, both
    /// started together; the captured audio, less the latency, is compared bit for bit
    /// with the signal as the link carries it.
    public static func loopback(signal: [UInt8], format: StreamFormat, profile: ControllerProfile = .default,
                                options: AudioPathOptions = .init(),
                                progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathResult {
        guard format.isValid else { throw .unencodable("format \(format.compact): \(format.problem ?? "invalid") (\(NTStatus.invalidParameter))") }
        let blocks = signal.count / format.blockBytes
        let memory = Array(signal.prefix(blocks * format.blockBytes))
        let expected: [UInt8]
        do { expected = try SampleConversion.linkMasked(memory, stream: format) } catch { throw .wav(error) }
        // The loopback carries what the link carries: the natural layout of the valid bits.
        // Its latency is set by the run once the buffers, and so the step, are known.
        let bridge = CodecTraceBridge()
        let codec = options.makeCodec(tracingTo: bridge)
        let delay = DelayLine(format: format.dmaFormat, delayBlocks: 0)
        guard codec.connectDefaultOutput(delay) else { throw .driver(.codecLacks("output path (a DAC reaching an output pin)")) }
        guard codec.connectDefaultInput(delay) else { throw .driver(.codecLacks("input path (an input pin reaching an ADC)")) }
        let runner = try PathRunner(profile: profile, codec: codec, codecTrace: bridge, options: options)
        runner.loopback = delay
        let report = try runner.run(format: format, render: memory, captureBlocks: blocks, progress: progress)
        let latency = runner.latencyBlocks
        let captured = runner.captured
        let skip = min(captured.count, latency * format.blockBytes)
        let wav = WAVFormat(format)
        return try finish(report: report, stream: format, file: WAVFile(format: wav, data: []),
                          outMemory: Array(captured[skip...]), expectedMemory: expected, latency: latency)
    }

    /// A deterministic test signal: a sine per channel (channel c at 440 x (c + 1) Hz, half
    /// scale) for `blocks` blocks of `format`, in its memory layout.
    public static func testSignal(format: StreamFormat, blocks: Int) -> [UInt8] {
        guard format.isValid, blocks > 0 else { return [] }
        var data = [UInt8](repeating: 0, count: blocks * format.blockBytes)
        let tone = ToneGenerator(frequency: 440, amplitude: 0.5, spreadChannels: true)
        data.withUnsafeMutableBytes { _ = tone.produce(into: $0, blocks: blocks, format: format) }
        return data
    }

    /// The stream format of a WAV file and its samples in that format's memory layout.
    static func prepare(_ file: WAVFile) throws(AudioPathError) -> (StreamFormat, [UInt8]) {
        do { try file.format.validate() } catch { throw .wav(error) }
        guard let stream = file.format.streamFormat else {
            throw .unencodable("\(file.format.sampleRate) Hz cannot be encoded as an HD Audio rate (\(NTStatus.invalidParameter))")
        }
        let whole = file.blockCount * file.format.blockAlign
        do {
            return (stream, try SampleConversion.memoryBytes(fromWAV: Array(file.data.prefix(whole)), format: file.format, stream: stream))
        } catch {
            throw .wav(error)
        }
    }

    static func finish(report: AudioPathReport, stream: StreamFormat, file: WAVFile, outMemory: [UInt8],
                       expectedMemory: [UInt8], latency: Int?) throws(AudioPathError) -> AudioPathResult {
        var r = report
        let bb = stream.blockBytes
        // Bit-exact needs equal bytes AND no packet refused by a converter (or the loopback):
        // a refused packet's samples never reached the output, and equal bytes then only
        // mean that the signal was silence where it was refused (a one-block sine is).
        let sameBytes = outMemory == expectedMemory
        r.bitExact = sameBytes && r.codecFormatMismatches == 0
        if !sameBytes {
            let n = min(outMemory.count, expectedMemory.count)
            var first = n / bb
            for i in 0..<n where outMemory[i] != expectedMemory[i] { first = i / bb; break }
            r.firstDifferentBlock = first
        } else if !r.bitExact {
            // No byte differs, yet packets were refused: no block can be vouched for.
            r.firstDifferentBlock = 0
        }
        r.latencyBlocks = latency
        let wavData: [UInt8]
        do { wavData = try SampleConversion.wavBytes(fromMemory: Array(outMemory.prefix(outMemory.count / bb * bb)), stream: stream, format: file.format) }
        catch { throw .wav(error) }
        return AudioPathResult(report: r, output: WAVFile(format: file.format, data: wavData))
    }
}
