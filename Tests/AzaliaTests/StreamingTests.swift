import Foundation
import Testing
@testable import Azalia
import HDACodec
import HDAudio

@Suite("Streaming paths: bounded memory, comparison as the samples arrive")
struct StreamingTests {
    static let stereo16 = StreamFormat(rate: 48000, bits: 16, channels: 2)

    @Test("256 MiB of a WAV file stream through the reader, the tee and the comparer with buffers of fixed size")
    func longStreamBounded() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("long.wav").path
        let dataBytes = 256 << 20
        // A sparse file: no disk, its data reads as zeros (silence).
        #expect(FileManager.default.createFile(atPath: path, contents: Data(try WAVFile.header(for: WAVFormat(Self.stereo16), dataBytes: dataBytes))))
        #expect(truncate(path, off_t(44 + dataBytes)) == 0)
        let reader = try WAVReader(path: path)
        let tee = TeeSignal(try WAVSignal(reader, format: Self.stereo16))
        let render = SignalBytes(tee)
        let comparer = StreamComparer(expected: tee.follower())
        // Refills of 16 KiB (as a client refills its DMA buffer), compared in cuts that do
        // not fall on blocks.
        var piece = [UInt8](repeating: 0xFF, count: 16 * 1024)
        var total = 0
        while true {
            let n = try piece.withMutableBytes { (p) throws(AudioPathError) in try render.read(into: p) }
            guard n > 0 else { break }
            var at = 0
            for cut in [4097, 7, 12_000, 280] where at < n {
                let end = min(n, at + cut)
                try piece.withUnsafeBytes { _ = try comparer.compare(UnsafeRawBufferPointer(rebasing: $0[at..<end])) }
                at = end
            }
            if at < n { try piece.withUnsafeBytes { _ = try comparer.compare(UnsafeRawBufferPointer(rebasing: $0[at..<n])) } }
            total += n
        }
        #expect(total == dataBytes)
        #expect(comparer.same)
        #expect(comparer.received == dataBytes)
        // The copy between reading and comparing never held more than one refill.
        #expect(tee.peakBytes <= 16 * 1024)
    }

    @Test("A tee whose follower falls 16 MiB behind (a DAC refusing the stream) stops keeping blocks: memory bounded, the comparison fails")
    func teeOverflowBounded() throws {
        let format = Self.stereo16
        let blocks = 4_500_000   // 18 MB, past the 16 MiB the tee keeps
        let tee = TeeSignal(try #require(ToneSignal(format: format, blocks: blocks)))
        let follower = tee.follower()
        var piece = [UInt8](repeating: 0, count: 1 << 20)
        var read = 0
        while true {
            let n = try piece.withMutableBytes { (p) throws(AudioPathError) in try tee.read(into: p, blocks: p.count / format.blockBytes) }
            guard n > 0 else { break }
            read += n
        }
        #expect(read == blocks)
        #expect(tee.peakBytes <= TeeSignal.limitBytes)
        // What was dropped is not handed out: the follower runs dry and a comparison against it differs.
        let comparer = StreamComparer(expected: follower)
        try piece.withUnsafeBytes { _ = try comparer.compare($0) }
        #expect(!comparer.same)
        #expect(comparer.firstDifferentBlock == 0)
    }

    @Test("The comparison as the samples arrive finds a one-sample difference at its block, however the bytes are cut",
          arguments: [1, 7, 4096, 100_003])
    func oneSampleDifference(_ cut: Int) throws {
        let format = StreamFormat(rate: 44100, bits: 24, channels: 3)
        let blocks = 40_000
        var actual = AudioPath.testSignal(format: format, blocks: blocks)
        // Channel 1 of block 12,345, one bit of its lowest valid byte.
        actual[12_345 * format.blockBytes + 1 * format.containerBytes + 1] ^= 0x01
        let comparer = StreamComparer(expected: try #require(ToneSignal(format: format, blocks: blocks)))
        var at = 0
        while at < actual.count {
            let end = min(actual.count, at + cut)
            try actual.withUnsafeBytes { _ = try comparer.compare(UnsafeRawBufferPointer(rebasing: $0[at..<end])) }
            at = end
        }
        #expect(!comparer.same)
        #expect(comparer.firstDifferentBlock == 12_345)
        #expect(comparer.firstDifference == 12_345 * format.blockBytes + format.containerBytes + 1)
    }

    @Test("Output that stops short is not the input: the first different block is where it stopped; extra bytes are not compared")
    func shortAndLongOutput() throws {
        let format = Self.stereo16
        let signal = AudioPath.testSignal(format: format, blocks: 5000)
        let short = StreamComparer(expected: try #require(ToneSignal(format: format, blocks: 5000)))
        try signal.withUnsafeBytes { _ = try short.compare(UnsafeRawBufferPointer(rebasing: $0[0..<(3210 * format.blockBytes + 3)])) }
        #expect(!short.same)
        #expect(short.firstDifferentBlock == 3210)
        let long = StreamComparer(expected: try #require(ToneSignal(format: format, blocks: 5000)))
        let padded = signal + [UInt8](repeating: 0x55, count: 999)
        let kept = try padded.withUnsafeBytes { try long.compare($0) }
        #expect(kept == signal.count)
        #expect(long.same)
        #expect(long.extra == 999)
    }

    @Test("The test tone made block by block equals the sine it describes, within one step of rounding, at 44.1 and 48 kHz",
          arguments: ["48000/16/2", "44100/24/4", "96000/32/8", "11025/8/1"])
    func toneIsTheSine(_ text: String) throws {
        let format = try #require(StreamFormat(compact: text))
        let blocks = 3000
        let tone = try #require(ToneSignal(format: format, blocks: blocks))
        var made = [UInt8](repeating: 0, count: blocks * format.blockBytes)
        #expect(try made.withMutableBytes { (d) throws(AudioPathError) in try tone.read(into: d, blocks: blocks) } == blocks)
        let layout = try #require(PCMLayout.memory(format))
        let bits = Int(format.validBitsPerSample)
        let full = Double((Int64(1) << (bits - 1)) - 1)
        var worst = 0.0
        made.withUnsafeBytes { raw in
            for n in 0..<blocks {
                for c in 0..<layout.channels {
                    let v = Double(Int32(bitPattern: layout.load(raw.baseAddress! + n * layout.blockBytes + c * layout.containerBytes)) >> (32 - bits))
                    let f = 440.0 * Double(c + 1)
                    let exact = 0.5 * sin(2 * Double.pi * f * Double(n) / Double(format.sampleRate)) * full
                    worst = max(worst, abs(v - exact))
                }
            }
        }
        #expect(worst <= 0.5 + 1e-6 * full)
        // Made again, the same bytes.
        #expect(AudioPath.testSignal(format: format, blocks: blocks) == made)
    }

    @Test("Play: what is held between reading the file and comparing it does not grow with the file's length")
    func playInFlightBounded() throws {
        var peaks: [Int] = []
        for seconds in [0.25, 2.0] {
            let wav = noiseWAV(WAVFormat(Self.stereo16), blocks: Int(seconds * 48000), seed: 5)
            let reader = try WAVReader(file: wav)
            let run = try AudioPath.play(reader, stream: Self.stereo16, writer: nil, profile: .default, options: AudioPathOptions(), progress: nil)
            #expect(run.report.bitExact)
            peaks.append(run.peakInFlightBytes)
        }
        // At most the 16 KiB DMA buffer ahead of the engine, and the link's packets.
        #expect(peaks.allSatisfy { $0 > 0 && $0 <= 2 * 16 * 1024 })
        #expect(peaks[1] <= peaks[0] + 4096)
    }

    @Test("The output writer holds at most one 1 MiB piece, converts identical layouts by copying, and writes the file the in-memory path does")
    func outputWriterBounded() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for format in [Self.stereo16, StreamFormat(rate: 48000, bits: 24, channels: 2)] {
            let wav = WAVFormat(format)
            let blocks = 600_000
            let signal = AudioPath.testSignal(format: format, blocks: blocks)
            let path = dir.appendingPathComponent("out-\(format.validBitsPerSample).wav").path
            let file = try PathOutputWriter(path: path, stream: format, as: wav)
            let memory = PathOutputWriter(memoryOf: format, as: wav)
            var at = 0
            var most = 0
            while at < signal.count {
                let end = min(signal.count, at + 40_001)
                signal.withUnsafeBytes { s in
                    file.write(UnsafeRawBufferPointer(rebasing: s[at..<end]))
                    memory.write(UnsafeRawBufferPointer(rebasing: s[at..<end]))
                }
                most = max(most, file.data.count)
                at = end
            }
            // Nothing is at the final path before the run completes.
            #expect(!FileManager.default.fileExists(atPath: path))
            try file.finish()
            #expect(most < PathOutputWriter.chunkBytes + 40_001)
            let written = try WAVFile.read(path: path)
            #expect(written.format == wav)
            #expect(written.data == memory.data)
            #expect(written.data == (try SampleConversion.wavBytes(fromMemory: signal, stream: format)))
            // No temporary file is left beside it.
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.hasSuffix(".partial") })
        }
    }

    @Test("Demo: a format the DDI refuses fails before any of the signal is made")
    func refusedFormatMakesNoSignal() throws {
        let format = try #require(StreamFormat(compact: "96000/32/8"))
        let blocks = 600 * 96000
        let render = try #require(ToneSignal(format: format.dmaFormat, blocks: blocks))
        let expected = try #require(ToneSignal(format: format.dmaFormat, blocks: blocks))
        #expect {
            try AudioPath.loopback(render: render, expected: expected, format: format, writer: nil, profile: .default,
                                   options: AudioPathOptions(), progress: nil)
        } throws: { error in
            guard case .driver(.ddi(let routine, _)) = error as? AudioPathError else { return false }
            return routine.hasPrefix("Allocate")
        }
        #expect(render.position == 0)
        #expect(expected.position == 0)
    }

    @Test("azalia demo of 600 s in a format the DDI refuses fails at once with the refusal, and leaves no --out file")
    func refusedDemoCLI() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("loop.wav").path
        let clock = ContinuousClock()
        let start = clock.now
        let run = try azalia("demo", "--seconds", "600", "--format", "96000/32/8", "--out", out)
        // Making 600 s of this signal first took seconds and gigabytes; refusing takes a moment.
        #expect(clock.now - start < .seconds(20))
        #expect(run.status == 1)
        let line = try #require(errorLine(run), "stderr: \(run.stderr)")
        #expect(line.contains("the bus refused: Allocate"), "\(line)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("azalia play --peak-memory (for the bench) ends standard error with the process's own VmHWM")
    func peakMemoryLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (good, _) = try writeNoise(dir, "good.wav", WAVFormat(Self.stereo16), blocks: 2000)
        let run = try azalia("play", good, "--peak-memory")
        #expect(run.status == 0)
        let line = try #require(run.stderr.split(separator: "\n").last)
        #expect(line.hasPrefix("VmHWM:"))
        let kB = try #require(Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? ""))
        #expect(kB > 1000 && kB < 1 << 20)
    }

    @Test("azalia play of a file cut inside its data chunk is one line naming the truncation, with no --out left behind")
    func truncatedDataCLI() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (good, _) = try writeNoise(dir, "good.wav", WAVFormat(Self.stereo16), blocks: 1000)
        let cut = dir.appendingPathComponent("cut.wav").path
        try Data(contentsOf: URL(fileURLWithPath: good)).prefix(44 + 2000).write(to: URL(fileURLWithPath: cut))
        let out = dir.appendingPathComponent("out.wav").path
        let run = try azalia("play", cut, "--out", out)
        #expect(run.status == 1)
        let line = try #require(errorLine(run), "stderr: \(run.stderr)")
        #expect(line.contains("truncated"), "\(line)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["cut.wav", "good.wav"])
    }
}
