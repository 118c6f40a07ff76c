import Foundation
import Testing
import TestSupport
import HDAudio
@testable import HDACodec

@Suite("WAV and HD Audio memory layouts")
struct LayoutTests {
    /// Every (valid bits, container) pair a stream format allows.
    static let sampleShapes: [(UInt16, UInt16)] = [(8, 8), (8, 16), (8, 32), (16, 16), (16, 32), (20, 32), (24, 32), (32, 32)]
    static let channelCounts: [UInt16] = Array(1...16)

    @Test("Memory -> WAV -> memory is bit-exact for every sample shape and 1 to 16 channels", arguments: sampleShapes, channelCounts)
    func memoryRoundTrip(shape: (UInt16, UInt16), channels: UInt16) throws {
        let stream = StreamFormat.make(48000, shape.0, shape.1, channels)
        #expect(stream.isValid)
        let raw = randomBytes(stream.blockBytes * 50, seed: UInt64(shape.0) * 1000 + UInt64(shape.1) * 20 + UInt64(channels))
        let masked = try SampleConversion.linkMasked(raw, stream: stream)
        let wav = try SampleConversion.wavBytes(fromMemory: masked, stream: stream)
        #expect(wav.count == WAVFormat(stream).blockAlign * 50)
        #expect(try SampleConversion.memoryBytes(fromWAV: wav, format: WAVFormat(stream), stream: stream) == masked)
    }

    @Test("WAV -> memory -> WAV is bit-exact for every WAV depth and 1 to 16 channels", arguments: [UInt16(8), 16, 24, 32], channelCounts)
    func wavRoundTrip(bits: UInt16, channels: UInt16) throws {
        let wav = WAVFormat(sampleRate: 44100, channels: channels, bitsPerSample: bits)
        let stream = try #require(wav.streamFormat)
        #expect(stream.validBitsPerSample == bits)
        #expect(stream.containerSize == (bits == 24 ? 32 : bits))
        let data = randomBytes(wav.blockAlign * 40, seed: UInt64(bits) << 16 | UInt64(channels))
        let memory = try SampleConversion.memoryBytes(fromWAV: data, format: wav, stream: stream)
        #expect(memory.count == stream.blockBytes * 40)
        #expect(try SampleConversion.wavBytes(fromMemory: memory, stream: stream) == data)
    }

    @Test("8-bit WAV is unsigned, HD Audio 8-bit is signed: the top bit flips")
    func eightBit() throws {
        let wav = WAVFormat(sampleRate: 48000, channels: 1, bitsPerSample: 8)
        let stream = StreamFormat.make(48000, 8, 8, 1)
        #expect(try SampleConversion.memoryBytes(fromWAV: [0x80, 0xFF, 0x00, 0x81, 0x7F], format: wav, stream: stream)
                == [0x00, 0x7F, 0x80, 0x01, 0xFF])
    }

    @Test("A 24-bit WAV sample becomes sample << 8 in a 32-bit container")
    func twentyFour() throws {
        let wav = WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 24)
        let stream = StreamFormat.make(48000, 24, 32, 2)
        let memory = try SampleConversion.memoryBytes(fromWAV: [0x56, 0x34, 0x12, 0xFE, 0xFF, 0x80], format: wav, stream: stream)
        #expect(memory == [0x00, 0x56, 0x34, 0x12, 0x00, 0xFE, 0xFF, 0x80])
    }

    @Test("16-bit samples are the same bytes in WAV and in memory")
    func sixteen() throws {
        let data = randomBytes(64, seed: 16)
        #expect(try SampleConversion.memoryBytes(fromWAV: data, format: WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16),
                                             stream: StreamFormat.make(48000, 16, 16, 2)) == data)
    }

    @Test("20-bit samples keep only their top 20 bits, written as 24-bit WAV samples")
    func twenty() throws {
        let stream = StreamFormat.make(48000, 20, 32, 1)
        let memory: [UInt8] = [0xFF, 0x5F, 0x34, 0x12]   // 0x12345FFF
        #expect(try SampleConversion.linkMasked(memory, stream: stream) == [0x00, 0x50, 0x34, 0x12])
        #expect(WAVFormat(stream) == WAVFormat(sampleRate: 48000, channels: 1, bitsPerSample: 24))
        #expect(try SampleConversion.wavBytes(fromMemory: memory, stream: stream) == [0x50, 0x34, 0x12])
        // A WAV that says 20 valid bits in 24 is read as a 20-bit stream.
        let wav20 = WAVFormat(sampleRate: 48000, channels: 1, bitsPerSample: 24, validBitsPerSample: 20)
        #expect(wav20.streamFormat == stream)
        #expect(try SampleConversion.memoryBytes(fromWAV: [0x5F, 0x34, 0x12], format: wav20, stream: stream) == [0x00, 0x50, 0x34, 0x12])
    }

    @Test("16-bit samples in 32-bit containers sit in the top half")
    func sixteenInThirtyTwo() throws {
        let stream = StreamFormat.make(48000, 16, 32, 1)
        #expect(try SampleConversion.memoryBytes(fromWAV: [0x34, 0x12], format: WAVFormat(stream), stream: stream) == [0, 0, 0x34, 0x12])
    }

    @Test("Converting to more channels adds silence; to fewer drops the extra channels")
    func channelMapping() throws {
        let mono = try #require(PCMLayout.wav(WAVFormat(sampleRate: 8000, channels: 1, bitsPerSample: 8)))
        let stereo = try #require(PCMLayout.wav(WAVFormat(sampleRate: 8000, channels: 2, bitsPerSample: 8)))
        #expect(PCMLayout.convert([0x10, 0x20], from: mono, to: stereo) == [0x10, 0x80, 0x20, 0x80])
        #expect(PCMLayout.convert([0x10, 0x11, 0x20, 0x21], from: stereo, to: mono) == [0x10, 0x20])
    }
}

@Suite("Sample sinks and sources")
struct SampleTests {
    @Test("A sample buffer plays back exactly what it received, then silence")
    func bufferIdentity() throws {
        let f = StreamFormat.make(48000, 24, 32, 2)
        let data = try SampleConversion.linkMasked(randomBytes(f.blockBytes * 10, seed: 3), stream: f)
        let buffer = SampleBuffer()
        data.withUnsafeBytes { buffer.consume($0, blocks: 10, format: f) }
        #expect(buffer.data == data)
        var out = [UInt8](repeating: 0xAA, count: f.blockBytes * 12)
        let n = out.withUnsafeMutableBytes { buffer.produce(into: $0, blocks: 12, format: f) }
        #expect(n == 10)
        #expect(Array(out[0..<data.count]) == data)
        #expect(out[data.count...].allSatisfy { $0 == 0 })
    }

    @Test("A loopback passes samples unchanged, first in first out, and underruns with silence")
    func loopbackIdentity() {
        let f = StreamFormat.make(44100, 16, 16, 4)
        let a = randomBytes(f.blockBytes * 5, seed: 10), b = randomBytes(f.blockBytes * 3, seed: 11)
        let loop = Loopback()
        a.withUnsafeBytes { loop.consume($0, blocks: 5, format: f) }
        b.withUnsafeBytes { loop.consume($0, blocks: 3, format: f) }
        var out = [UInt8](repeating: 0xEE, count: f.blockBytes * 10)
        let n = out.withUnsafeMutableBytes { loop.produce(into: $0, blocks: 10, format: f) }
        #expect(n == 8)
        #expect(Array(out[0..<(a.count + b.count)]) == a + b)
        #expect(out[(a.count + b.count)...].allSatisfy { $0 == 0 })
        #expect(loop.underrunBlocks == 2)
    }

    @Test("The tone generator is deterministic and hits its amplitude", arguments: [
        StreamFormat.make(48000, 8, 8, 1), StreamFormat.make(48000, 16, 16, 2), StreamFormat.make(32000, 20, 32, 3),
        StreamFormat.make(44100, 24, 32, 2), StreamFormat.make(192000, 32, 32, 16),
    ])
    func tone(format: StreamFormat) throws {
        // A quarter of the rate: the samples go 0, +peak, 0, -peak.
        let f = Double(format.sampleRate) / 4
        let one = ToneGenerator(frequency: f, amplitude: 0.5), two = ToneGenerator(frequency: f, amplitude: 0.5)
        var a = [UInt8](repeating: 0, count: format.blockBytes * 8), b = a
        _ = a.withUnsafeMutableBytes { one.produce(into: $0, blocks: 8, format: format) }
        _ = b.withUnsafeMutableBytes { two.produce(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<(format.blockBytes * 3)]), blocks: 3, format: format) }
        _ = b.withUnsafeMutableBytes { two.produce(into: UnsafeMutableRawBufferPointer(rebasing: $0[(format.blockBytes * 3)...]), blocks: 5, format: format) }
        #expect(a == b, "produced in pieces or at once, the tone is the same")
        let layout = try #require(PCMLayout.memory(format))
        let bits = Int(format.validBitsPerSample)
        let peak = Int64(((Double((Int64(1) << (bits - 1)) - 1)) * 0.5).rounded())
        a.withUnsafeBytes { m in
            for c in 0..<layout.channels {
                func value(_ block: Int) -> Int64 {
                    Int64(Int32(bitPattern: layout.load(m.baseAddress! + block * layout.blockBytes + c * layout.containerBytes))) >> (32 - bits)
                }
                #expect(value(0) == 0)
                #expect(value(1) == peak)
                #expect(value(3) == -peak)
            }
        }
    }

    @Test("A WAV file source plays its file in the stream's memory layout, then silence")
    func wavSource() throws {
        let wav = WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 24)
        let data = randomBytes(wav.blockAlign * 6, seed: 24)
        let source = try WAVFileSource(file: WAVFile(format: wav, data: data))
        let stream = try #require(wav.streamFormat)
        var out = [UInt8](repeating: 0xCC, count: stream.blockBytes * 8)
        let n = out.withUnsafeMutableBytes { source.produce(into: $0, blocks: 8, format: stream) }
        #expect(n == 6)
        #expect(source.isFinished)
        #expect(try Array(out[0..<(stream.blockBytes * 6)]) == SampleConversion.memoryBytes(fromWAV: data, format: wav, stream: stream))
        #expect(out[(stream.blockBytes * 6)...].allSatisfy { $0 == 0 })
    }

    @Test("A WAV file sink writes a file that reads back to the samples it got")
    func wavSink() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = StreamFormat.make(44100, 8, 8, 3)
        let memory = randomBytes(f.blockBytes * 33, seed: 8)
        let sink = WAVFileSink(path: dir + "/o.wav")
        memory.withUnsafeBytes { sink.consume($0, blocks: 33, format: f) }
        try sink.finish()
        let back = try WAVFile.read(path: dir + "/o.wav")
        #expect(back.format == WAVFormat(f))
        #expect(try SampleConversion.memoryBytes(fromWAV: back.data, format: back.format, stream: f) == memory)
    }

    @Test("A WAV file sink that cannot create its file reports an I/O error")
    func wavSinkError() {
        let f = StreamFormat.make(48000, 16, 16, 1)
        let sink = WAVFileSink(path: "/nonexistent/azalia/o.wav")
        [UInt8](repeating: 0, count: 2).withUnsafeBytes { sink.consume($0, blocks: 1, format: f) }
        #expect(sink.error != nil)
        #expect(throws: WAVError.self) { try sink.finish() }
    }


    @Test("A tone generator given a non-finite amplitude or frequency produces silence, never traps",
          arguments: [(Double.nan, 0.5), (440.0, Double.nan), (Double.infinity, 0.5)] as [(Double, Double)])
    func nonFiniteTone(_ frequency: Double, _ amplitude: Double) {
        let tone = ToneGenerator(frequency: frequency, amplitude: amplitude)
        var buffer = [UInt8](repeating: 0xAA, count: 16)
        let n = buffer.withUnsafeMutableBytes { tone.produce(into: $0, blocks: 4, format: .make(48000, 16, 16, 2)) }
        #expect(n == 4)
        #expect(buffer.allSatisfy { $0 == 0 })
    }
}

@Suite("Client mistakes are errors, never traps")
struct MisuseTests {
    @Test("Conversions refuse an invalid stream format or WAV format with a thrown error")
    func invalidFormats() {
        let bad = StreamFormat.make(48000, 24, 24, 2)
        #expect(throws: WAVError.self) { try SampleConversion.linkMasked([0, 0, 0], stream: bad) }
        #expect(throws: WAVError.self) {
            try SampleConversion.wavBytes(fromMemory: [], stream: StreamFormat.make(12345, 16, 16, 2))
        }
        #expect(throws: WAVError.unsupportedChannelCount(0)) {
            try SampleConversion.memoryBytes(fromWAV: [], format: WAVFormat(sampleRate: 8000, channels: 0, bitsPerSample: 8),
                                             stream: StreamFormat.make(8000, 8, 8, 1))
        }
        #expect(PCMLayout.memory(bad) == nil)
        #expect(PCMLayout(containerBytes: 5, validBits: 8, channels: 1, unsignedBytes: false) == nil)
        #expect(PCMLayout(containerBytes: 2, validBits: 17, channels: 1, unsignedBytes: false) == nil)
        #expect(PCMLayout(containerBytes: 2, validBits: 16, channels: 0, unsignedBytes: false) == nil)
    }

    @Test("Buffers and sources refuse bad contents at creation")
    func badContents() {
        #expect(throws: WAVError.dataLengthMismatch) { try SampleBuffer(format: .make(48000, 16, 16, 2), data: [1, 2, 3]) }
        #expect(throws: WAVError.self) { try SampleBuffer(format: .make(48000, 16, 8, 2), data: []) }
        #expect(throws: WAVError.dataLengthMismatch) {
            try WAVFileSource(file: WAVFile(format: WAVFormat(sampleRate: 8000, channels: 2, bitsPerSample: 16), data: [1]))
        }
    }

    @Test("Sinks and sources ignore an invalid format and never go past the buffer they are given")
    func bounded() {
        let good = StreamFormat.make(48000, 16, 16, 2), bad = StreamFormat.make(48000, 16, 16, 0)
        let buffer = SampleBuffer(), loop = Loopback(), tone = ToneGenerator()
        let four = [UInt8](repeating: 7, count: 4)
        four.withUnsafeBytes { b in
            buffer.consume(b, blocks: 1, format: bad)
            loop.consume(b, blocks: 1, format: bad)
            buffer.consume(b, blocks: 100, format: good)   // only one block is there
        }
        #expect(buffer.blockCount == 1)
        #expect(loop.queuedBlocks == 0)
        var out = [UInt8](repeating: 0xAA, count: 8)
        out.withUnsafeMutableBytes { o in
            #expect(tone.produce(into: o, blocks: 1, format: bad) == 0)
            #expect(tone.produce(into: UnsafeMutableRawBufferPointer(rebasing: o[0..<4]), blocks: 50, format: good) == 1)
        }
        #expect(out[4...].allSatisfy { $0 == 0xAA })
        #expect(PCMLayout.convert(four, from: PCMLayout(containerBytes: 2, validBits: 16, channels: 2, unsignedBytes: false)!,
                                  to: PCMLayout(containerBytes: 4, validBits: 32, channels: 2, unsignedBytes: false)!).count == 8)
    }
}
