import Foundation
import Testing
import TestSupport
import HDAudio
@testable import HDACodec

@Suite("WAV files")
struct WAVTests {
    static let bitDepths: [UInt16] = [8, 16, 24, 32]
    static let channelCounts: [UInt16] = Array(1...16)

    @Test("Writer then reader is bit-exact for every bit depth and 1 to 16 channels", arguments: bitDepths, channelCounts)
    func roundTrip(bits: UInt16, channels: UInt16) throws {
        let format = WAVFormat(sampleRate: 44100, channels: channels, bitsPerSample: bits)
        let data = randomBytes(format.blockAlign * 37, seed: UInt64(bits) << 8 | UInt64(channels))
        let bytes = try WAVFile(format: format, data: data).serialized()
        let back = try WAVFile.parse(bytes)
        #expect(back.format == format)
        #expect(back.data == data)
        #expect(back.blockCount == 37)
    }

    @Test("Writer uses WAVE_FORMAT_EXTENSIBLE exactly when channels > 2 or bits > 16", arguments: bitDepths, [UInt16(1), 2, 3, 16])
    func extensibleChoice(bits: UInt16, channels: UInt16) throws {
        let format = WAVFormat(sampleRate: 48000, channels: channels, bitsPerSample: bits)
        let bytes = try WAVFile(format: format, data: [UInt8](repeating: 0, count: format.blockAlign)).serialized()
        let tag = UInt16(bytes[20]) | UInt16(bytes[21]) << 8
        let fmtSize = UInt32(bytes[16]) | UInt32(bytes[17]) << 8
        if channels > 2 || bits > 16 {
            #expect(tag == 0xFFFE)
            #expect(fmtSize == 40)
        } else {
            #expect(tag == 1)
            #expect(fmtSize == 16)
        }
        #expect(bytes.count == 12 + 8 + Int(fmtSize) + 8 + format.blockAlign + (format.blockAlign & 1))
    }

    @Test("Reader takes WAVE_FORMAT_PCM and WAVE_FORMAT_EXTENSIBLE written by hand")
    func readsBothTags() throws {
        let pcm = try WAVFile.parse(RawWAV(channels: 2, bits: 16, data: [1, 0, 2, 0]).bytes)
        #expect(pcm.format == WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16))
        #expect(pcm.data == [1, 0, 2, 0])
        let ext = try WAVFile.parse(RawWAV(formatTag: 0xFFFE, channels: 1, rate: 96000, bits: 24,
                                           fmtExtension: RawWAV.extensible(validBits: 20), data: [0x10, 0x20, 0x30]).bytes)
        #expect(ext.format == WAVFormat(sampleRate: 96000, channels: 1, bitsPerSample: 24, validBitsPerSample: 20))
        #expect(ext.data == [0x10, 0x20, 0x30])
    }

    @Test("Chunks in any order and unknown chunks are accepted")
    func chunkOrder() throws {
        let other = Array("LIST".utf8) + RawWAV.le32(3) + [9, 9, 9, 0]
        let w = try WAVFile.parse(RawWAV(channels: 1, bits: 8, data: [0x80, 0x81, 0x7F], dataFirst: true, extraChunk: other).bytes)
        #expect(w.data == [0x80, 0x81, 0x7F])
        #expect(w.format.bitsPerSample == 8)
    }

    static let malformed: [(String, [UInt8], WAVError)] = {
        var cases: [(String, [UInt8], WAVError)] = []
        let good = RawWAV().bytes
        cases.append(("empty", [], .truncated("")))
        cases.append(("three bytes", [0x52, 0x49, 0x46], .truncated("")))
        cases.append(("RIFF with no form", Array("RIFF".utf8) + [4, 0, 0, 0], .truncated("")))
        cases.append(("not RIFF", Array("RIFX".utf8) + good.dropFirst(4), .notRIFF))
        cases.append(("not WAVE", Array(good[0..<8]) + Array("AVI ".utf8) + good.dropFirst(12), .notWAVE))
        cases.append(("cut in the data", Array(good.dropLast(2)), .truncated("")))
        var cutHeader = RawWAV(includeData: false).bytes + Array("da".utf8)
        cutHeader.replaceSubrange(4..<8, with: RawWAV.le32(UInt32(cutHeader.count - 8)))
        cases.append(("cut in a chunk header", cutHeader, .truncated("")))
        var bigData = RawWAV().bytes
        let dataSizeAt = bigData.count - 4 - 4
        bigData[dataSizeAt] = 200
        cases.append(("data chunk larger than the file", bigData, .truncated("")))
        cases.append(("no fmt chunk", RawWAV(includeFormat: false).bytes, .missingFormatChunk))
        cases.append(("no data chunk", RawWAV(includeData: false).bytes, .missingDataChunk))
        var short = RawWAV()
        short.fmtExtension = []
        var shortBytes = short.bytes
        // Shrink the fmt chunk to 14 bytes by rebuilding it by hand.
        shortBytes = Array("RIFF".utf8) + RawWAV.le32(4 + 8 + 14 + 8 + 4) + Array("WAVE".utf8)
            + Array("fmt ".utf8) + RawWAV.le32(14) + Array(RawWAV().bytes[20..<34])
            + Array("data".utf8) + RawWAV.le32(4) + [1, 2, 3, 4]
        cases.append(("fmt chunk of 14 bytes", shortBytes, .formatChunkTooSmall(14)))
        cases.append(("IEEE float tag", RawWAV(formatTag: 3, bits: 32, data: [0, 0, 0, 0, 0, 0, 0, 0]).bytes, .unsupportedFormatTag(3)))
        cases.append(("A-law tag", RawWAV(formatTag: 6, bits: 8).bytes, .unsupportedFormatTag(6)))
        cases.append(("extensible float sub-format",
                      RawWAV(formatTag: 0xFFFE, channels: 1, bits: 32, fmtExtension: RawWAV.extensible(validBits: 32, subFormat: 3),
                             data: [0, 0, 0, 0]).bytes, .unsupportedSubFormat))
        cases.append(("extensible with cbSize 0",
                      RawWAV(formatTag: 0xFFFE, channels: 1, bits: 16, fmtExtension: RawWAV.le16(0), data: [0, 0]).bytes,
                      .formatChunkTooSmall(18)))
        cases.append(("12-bit containers", RawWAV(channels: 1, blockAlign: 2, bits: 12, data: [0, 0]).bytes, .unsupportedBitsPerSample(12)))
        cases.append(("0 channels", RawWAV(channels: 0, blockAlign: 0).bytes, .unsupportedChannelCount(0)))
        cases.append(("17 channels", RawWAV(channels: 17, bits: 8, data: [UInt8](repeating: 0x80, count: 17)).bytes,
                      .unsupportedChannelCount(17)))
        cases.append(("rate 0", RawWAV(rate: 0).bytes, .invalidSampleRate))
        cases.append(("odd block align", RawWAV(channels: 2, blockAlign: 3).bytes, .badBlockAlign(found: 3, expected: 4)))
        cases.append(("wrong byte rate", RawWAV(byteRate: 1000).bytes, .badByteRate(found: 1000, expected: 192_000)))
        cases.append(("partial block", RawWAV(channels: 2, bits: 16, data: [1, 2, 3, 4, 5, 6]).bytes,
                      .partialBlock(dataBytes: 6, blockAlign: 4)))
        cases.append(("25 valid bits in 24", RawWAV(formatTag: 0xFFFE, channels: 1, bits: 24,
                                                    fmtExtension: RawWAV.extensible(validBits: 25), data: [0, 0, 0]).bytes,
                      .invalidValidBits(25, container: 24)))
        return cases
    }()

    @Test("Every malformed file is a clear thrown error", arguments: malformed.indices)
    func malformedFile(index: Int) {
        let (name, bytes, expected) = WAVTests.malformed[index]
        do {
            _ = try WAVFile.parse(bytes)
            Issue.record("\(name): parsed without error")
        } catch {
            switch (error, expected) {
            case (.truncated(let why), .truncated):
                #expect(!why.isEmpty, "\(name)")
            default:
                #expect(error == expected, "\(name)")
            }
            #expect(!error.description.isEmpty)
        }
    }

    @Test("Random corruption of a valid file never crashes the reader")
    func fuzz() {
        let good = RawWAV(formatTag: 0xFFFE, channels: 3, bits: 24,
                          fmtExtension: RawWAV.extensible(validBits: 24, mask: 7), data: randomBytes(9 * 5, seed: 1)).bytes
        var g = SeededRandom(seed: 0xF022)
        var parsed = 0, refused = 0
        for _ in 0..<2000 {
            var b = good
            for _ in 0..<Int(g.next() % 4 + 1) { b[Int(g.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: g.next()) }
            if g.next() % 4 == 0 { b = Array(b.prefix(Int(g.next() % UInt64(b.count)))) }
            do { let w = try WAVFile.parse(b); parsed += 1; #expect(w.data.count % w.format.blockAlign == 0) } catch { refused += 1 }
        }
        #expect(parsed + refused == 2000)
        #expect(refused > 0)
    }

    @Test("Writer refuses data that is not whole blocks")
    func writerRefusesPartialData() {
        let f = WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16)
        #expect(throws: WAVError.dataLengthMismatch) { try WAVFile(format: f, data: [1, 2, 3]).serialized() }
        #expect(throws: WAVError.unsupportedChannelCount(17)) {
            try WAVFile(format: WAVFormat(sampleRate: 48000, channels: 17, bitsPerSample: 8), data: []).serialized()
        }
    }

    @Test("Reading a missing file is an I/O error, not a crash")
    func missingFile() {
        #expect {
            try WAVFile.read(path: "/nonexistent/azalia/none.wav")
        } throws: { error in
            if case WAVError.io = error { return true }
            return false
        }
    }


    @Test("Whatever the WAV writer accepts reads back identically (nAvgBytesPerSec must fit in 32 bits)")
    func byteRateOverflow() {
        let format = WAVFormat(sampleRate: 0x8000_0000, channels: 16, bitsPerSample: 32)
        let file = WAVFile(format: format, data: [UInt8](repeating: 1, count: format.blockAlign))
        if let bytes = try? file.serialized() {
            #expect((try? WAVFile.parse(bytes)) == file)
        }
    }

    @Test("An odd-sized chunk with its pad byte before fmt, and an odd data chunk with its pad byte, parse exactly")
    func oddChunksWithPad() throws {
        let data: [UInt8] = [0x00, 0x80, 0xFF]
        let list = Array("LIST".utf8) + RawWAV.le32(5) + Array("INFOx".utf8) + [0]
        let wav = RawWAV(channels: 1, rate: 8000, bits: 8, data: data, extraChunk: list).bytes
        let file = try WAVFile.parse(wav)
        #expect(file.format == WAVFormat(sampleRate: 8000, channels: 1, bitsPerSample: 8))
        #expect(file.data == data)
        // 8-bit WAV is unsigned: 0x00 is the most negative sample, 0x80 silence, 0xFF the most positive.
        let memory = try SampleConversion.memoryBytes(fromWAV: file.data, format: file.format, stream: .make(8000, 8, 8, 1))
        #expect(memory == [0x80, 0x00, 0x7F])
        // The writer pads the odd data chunk and the reader gives back the same file.
        let written = try file.serialized()
        #expect(written.count % 2 == 0)
        #expect(try WAVFile.parse(written) == file)
    }

    /// A new temporary directory holding `in.wav` of `format` and `data`: (directory, file path).
    static func temporaryWAV(format: WAVFormat, data: [UInt8]) throws -> (String, String) {
        let dir = try temporaryDirectory()
        do { try WAVFile(format: format, data: data).write(path: dir + "/in.wav") } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
        return (dir, dir + "/in.wav")
    }

    @Test("A WAV file source opened by path plays as it reads: the same samples in pieces of any size, in the file's layout or another")
    func fileSourceStreams() throws {
        let format = WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16)
        // More than two of the source's 64 KiB pieces, and not a whole number of them.
        let data = randomBytes(4 * 40_000, seed: 12)
        let (dir, path) = try Self.temporaryWAV(format: format, data: data)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let same = try #require(format.streamFormat)
        var wide = same
        wide.containerSize = 32
        for stream in [same, wide] {
            let source = try WAVFileSource(path: path)
            let blockBytes = PCMLayout.memory(stream)!.blockBytes
            var out: [UInt8] = [], sizes = [1, 7, 20_000, 333, 30_001]
            var chunk = [UInt8](repeating: 0, count: 30_001 * blockBytes)
            while !source.isFinished {
                let n = sizes.removeFirst()
                sizes.append(n)
                let got = chunk.withUnsafeMutableBytes { source.produce(into: $0, blocks: n, format: stream) }
                out += chunk[0..<(got * blockBytes)]
            }
            #expect(source.position == 40_000 && source.readError == nil)
            #expect(out == (try SampleConversion.memoryBytes(fromWAV: data, format: format, stream: stream)), "\(stream)")
        }
    }

    @Test("A WAV file source whose file shrinks while it plays stops there, says why, and plays silence")
    func fileSourceShrinks() throws {
        let format = WAVFormat(sampleRate: 44100, channels: 1, bitsPerSample: 16)
        let data = randomBytes(2 * 100_000, seed: 13)
        let (dir, path) = try Self.temporaryWAV(format: format, data: data)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stream = try #require(format.streamFormat)
        let source = try WAVFileSource(path: path)
        var chunk = [UInt8](repeating: 0xAA, count: 2 * 60_000)
        #expect(chunk.withUnsafeMutableBytes { source.produce(into: $0, blocks: 1000, format: stream) } == 1000)
        #expect(Array(chunk[0..<2000]) == Array(data[0..<2000]))
        // The file is cut to 50,000 blocks (plus its 44-byte header) after the header was read.
        #expect(truncate(path, off_t(44 + 2 * 50_000)) == 0)
        let got = chunk.withUnsafeMutableBytes { source.produce(into: $0, blocks: 60_000, format: stream) }
        #expect(got == 49_000)
        #expect(Array(chunk[0..<(2 * 49_000)]) == Array(data[2000..<(2 * 50_000)]))
        #expect(chunk[(2 * 49_000)...].allSatisfy { $0 == 0 })
        guard case .truncated? = source.readError else {
            Issue.record("expected a truncated error, got \(String(describing: source.readError))")
            return
        }
        #expect(source.isFinished)
    }

    @Test("A data chunk announcing more than the file holds, and a huge RIFF size, are clear errors")
    func oversizedChunks() {
        var bytes = RawWAV().bytes
        let dataSizeAt = bytes.count - 4 - 4
        bytes.replaceSubrange(dataSizeAt..<dataSizeAt + 4, with: RawWAV.le32(0xFFFF_FFF0))
        #expect(throws: WAVError.self) { try WAVFile.parse(bytes) }
        var riff = RawWAV().bytes
        riff.replaceSubrange(4..<8, with: RawWAV.le32(0xFFFF_FFFF))
        #expect(throws: WAVError.self) { try WAVFile.parse(riff) }
    }
}

@Suite("WAV files against sox", .enabled(if: Tool.hasSox, "sox is not installed (apt-get install sox): sox cross-checks skipped"))
struct SoxTests {
    static let cases: [(UInt16, UInt16)] = [8, 16, 24, 32].flatMap { b in [1, 2, 3, 6, 16].map { (UInt16(b), UInt16($0)) } }

    @Test("Files made by sox read back with sox's own sample bytes", arguments: cases)
    func readSoxFile(bits: UInt16, channels: UInt16) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wav = dir + "/in.wav", raw = dir + "/in.raw"
        let encoding = bits == 8 ? "unsigned-integer" : "signed-integer"
        try #require(Tool.run("sox", ["-D", "-n", "-r", "32000", "-b", "\(bits)", "-c", "\(channels)", "-e", encoding, wav,
                                      "synth", "0.01", "sine", "300-3000", "vol", "0.7"]).status == 0)
        try #require(Tool.run("sox", [wav, "-t", "raw", raw]).status == 0)
        let file = try WAVFile.read(path: wav)
        #expect(file.format == WAVFormat(sampleRate: 32000, channels: channels, bitsPerSample: bits))
        #expect(file.blockCount == 320)
        #expect(file.data == (try fileBytes(raw)))
        #expect(file.data.contains { $0 != file.data[0] })
    }

    @Test("Files from Azalia's writer read back by sox sample for sample", arguments: cases)
    func soxReadsOurFile(bits: UInt16, channels: UInt16) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ours = dir + "/ours.wav", raw = dir + "/ours.raw", theirs = dir + "/theirs.wav"
        let format = WAVFormat(sampleRate: 22050, channels: channels, bitsPerSample: bits)
        let data = randomBytes(format.blockAlign * 101, seed: UInt64(bits) * 97 + UInt64(channels))
        try WAVFile(format: format, data: data).write(path: ours)
        let info = try Tool.run("sox", ["--i", ours])
        try #require(info.status == 0)
        #expect(try Tool.run("sox", ["--i", "-r", ours]).output.trimmingCharacters(in: .whitespacesAndNewlines) == "22050")
        #expect(try Tool.run("sox", ["--i", "-c", ours]).output.trimmingCharacters(in: .whitespacesAndNewlines) == "\(channels)")
        #expect(try Tool.run("sox", ["--i", "-b", ours]).output.trimmingCharacters(in: .whitespacesAndNewlines) == "\(bits)")
        #expect(try Tool.run("sox", ["--i", "-s", ours]).output.trimmingCharacters(in: .whitespacesAndNewlines) == "101")
        try #require(Tool.run("sox", [ours, "-t", "raw", raw]).status == 0)
        #expect(try fileBytes(raw) == data)
        // sox rewrites the file in its own way; Azalia reads that back to the same samples.
        try #require(Tool.run("sox", [ours, theirs]).status == 0)
        #expect(try WAVFile.read(path: theirs).data == data)
    }

    @Test("A float WAV made by sox is refused as unsupported, not misread")
    func floatRefused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wav = dir + "/f.wav"
        try #require(Tool.run("sox", ["-n", "-r", "48000", "-b", "32", "-c", "2", "-e", "floating-point", wav, "synth", "0.01", "sine", "440"]).status == 0)
        #expect {
            try WAVFile.read(path: wav)
        } throws: { error in
            switch error as? WAVError {
            case .unsupportedFormatTag(3), .unsupportedSubFormat: true
            default: false
            }
        }
    }

    @Test("A WAV file sink's output is read by sox with the samples it was given", arguments: [
        StreamFormat.make(48000, 16, 16, 2), StreamFormat.make(44100, 24, 32, 6), StreamFormat.make(96000, 8, 8, 1),
        StreamFormat.make(8000, 32, 32, 16), StreamFormat.make(48000, 20, 32, 2),
    ])
    func sinkFileForSox(format: StreamFormat) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/sink.wav", raw = dir + "/sink.raw"
        let memory = try SampleConversion.linkMasked(randomBytes(format.blockBytes * 300, seed: UInt64(format.sampleRate)), stream: format)
        let sink = WAVFileSink(path: path)
        memory.withUnsafeBytes { m in
            // In three uneven pieces, as a DAC delivers them.
            for (a, b) in [(0, 7), (7, 200), (200, 300)] {
                sink.consume(UnsafeRawBufferPointer(rebasing: m[(a * format.blockBytes)..<(b * format.blockBytes)]),
                             blocks: b - a, format: format)
            }
        }
        try sink.finish()
        #expect(try Tool.run("sox", ["--i", "-s", path]).output.trimmingCharacters(in: .whitespacesAndNewlines) == "300")
        try #require(Tool.run("sox", [path, "-t", "raw", raw]).status == 0)
        let expected = try SampleConversion.wavBytes(fromMemory: memory, stream: format)
        #expect(try fileBytes(raw) == expected)
        #expect(try WAVFile.read(path: path).format == WAVFormat(format))
    }
}

@Suite("Speech", .enabled(if: Tool.hasSox && Tool.hasEspeak, "espeak-ng or sox is not installed: speech test skipped"))
struct SpeechTests {
    @Test("A spoken phrase from espeak-ng reads as sox reads it and survives the memory layout round trip")
    func speech() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wav = dir + "/speech.wav", raw = dir + "/speech.raw"
        try #require(Tool.run("espeak-ng", ["-w", wav, "Azalia plays this sentence bit for bit."]).status == 0)
        try #require(Tool.run("sox", [wav, "-t", "raw", raw]).status == 0)
        let file = try WAVFile.read(path: wav)
        #expect(file.data == (try fileBytes(raw)))
        #expect(file.blockCount > 10_000)
        let stream = try #require(file.format.streamFormat)
        let memory = try SampleConversion.memoryBytes(fromWAV: file.data, format: file.format, stream: stream)
        #expect(try SampleConversion.wavBytes(fromMemory: memory, stream: stream, format: file.format) == file.data)
        // Loud enough to be speech, not silence.
        var peak = 0
        file.data.withUnsafeBytes { b in
            for i in stride(from: 0, to: b.count - 1, by: 2) { peak = max(peak, abs(Int(Int16(bitPattern: UInt16(b[i]) | UInt16(b[i + 1]) << 8)))) }
        }
        #expect(peak > 1000)
    }

    @Test("Speech recorded by an ADC from a WAV file source and played by a DAC into a WAV sink comes out identical")
    func speechThroughTheCodec() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = dir + "/in.wav", output = dir + "/out.wav"
        try #require(Tool.run("espeak-ng", ["-w", input, "Loop back."]).status == 0)
        let file = try WAVFile.read(path: input)
        let stream = try #require(file.format.streamFormat)
        let cf = try ConverterFormat(stream)
        let codec = VirtualCodec(address: 1)
        for v in [CodecVerb.setFormat(codec: 1, node: codec.adcNodes[0], cf), .setStream(codec: 1, node: codec.adcNodes[0], tag: 4),
                  .setFormat(codec: 1, node: codec.dacNodes[2], cf), .setStream(codec: 1, node: codec.dacNodes[2], tag: 4)] {
            #expect(codec.linkCommand(v.rawValue) == 0)
        }
        codec.setSource(try WAVFileSource(path: input), adc: 0)
        let sink = WAVFileSink(path: output)
        codec.setSink(sink, dac: 2)
        // Move the file in packets of 1 to 3 blocks, as the link's cadence would.
        var done = 0, frame: UInt64 = 0
        var packet = [UInt8](repeating: 0, count: 3 * stream.blockBytes)
        while done < file.blockCount {
            let n = min(file.blockCount - done, Int(frame % 3) + 1)
            packet.withUnsafeMutableBytes { p in
                let slice = UnsafeMutableRawBufferPointer(rebasing: p[0..<(n * stream.blockBytes)])
                #expect(codec.linkTransmit(tag: 4, format: cf, frame: frame, blocks: n, into: slice))
                codec.linkReceive(tag: 4, format: cf, frame: frame, blocks: n, data: UnsafeRawBufferPointer(slice))
            }
            done += n
            frame += 1
        }
        try sink.finish()
        #expect(codec.formatMismatchCount == 0)
        let back = try WAVFile.read(path: output)
        #expect(back == file)
        #expect(try Tool.run("sox", ["--i", "-s", output]).output.trimmingCharacters(in: .whitespacesAndNewlines) == "\(file.blockCount)")
    }
}

@Suite("WAV paths that are not files")
struct WAVPathTests {
    @Test("Reading a device such as /dev/zero is refused without loading it into memory")
    func deviceRefused() {
        #expect(throws: WAVError.self) { try WAVFile.read(path: "/dev/zero") }
        #expect(throws: WAVError.self) { try WAVFile.read(path: "/tmp") }
        #expect(throws: WAVError.self) { try WAVFile.read(path: "/nonexistent/file.wav") }
    }
}
