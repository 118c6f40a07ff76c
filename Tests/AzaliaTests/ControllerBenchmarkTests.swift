import Foundation
import Azalia
import HDAController
import HDAudio
import Testing

@Suite("Benchmark")
struct BenchmarkTests {
    /// Set AZALIA_BENCH_SECONDS (e.g. 60, with `swift test -c release`) to measure for real.
    @Test("ControllerBenchmark runs every engine of the profile and moves exactly the cadence's bytes")
    func benchmark() throws {
        let seconds = Double(ProcessInfo.processInfo.environment["AZALIA_BENCH_SECONDS"] ?? "") ?? 0.25
        let result = try ControllerBenchmark.run(linkSeconds: seconds)
        let format = ControllerBenchmark.defaultFormat
        let frames = UInt64(seconds * 48_000)
        #expect(result.engines == 16)
        #expect(result.bytesMoved == UInt64(result.engines) * (try LinkCadence(format).blocks(before: frames)) * UInt64(format.blockBytes))
        #expect(result.ratioToMemcpy > 0 && result.simulatedSecondsPerWallSecond > 0)
        print("benchmark: \(result)")
    }

    @Test("ControllerBenchmark refuses a format the stream payload cannot carry")
    func tooBig() {
        #expect(throws: NTStatus.bufferTooSmall) {
            try ControllerBenchmark.run(format: StreamFormat(rate: 192_000, bits: 32, channels: 16), linkSeconds: 0.01)
        }
    }
}

@Suite("Real-path benchmark")
struct RealPathBenchmarkTests {
    @Test("The real path runs every engine through the bus: the cadence's bytes moved, one client refill per half buffer",
          arguments: [RealPathBenchmark.defaultBufferBytes, 65536])
    func realPath(bufferBytes: Int) throws {
        let seconds = 0.25
        let result = try RealPathBenchmark.run(linkSeconds: seconds, bufferBytes: bufferBytes)
        #expect(result.requestedBufferBytes == bufferBytes)
        // Each buffer is the request rounded down to halves of whole blocks (and the bus's alignment).
        for (format, size) in zip(RealPathBenchmark.outputFormats + RealPathBenchmark.inputFormats, result.bufferBytes) {
            #expect(size <= bufferBytes && size > bufferBytes * 15 / 16 && (size / 2) % format.blockBytes == 0)
        }
        let frames = UInt64(seconds * 48_000)
        let formats = RealPathBenchmark.outputFormats + RealPathBenchmark.inputFormats
        #expect(result.streams.count == 16 && result.bufferBytes.count == 16)
        // The engines start together (SSYNC) and each moves exactly its cadence's blocks.
        var expected: UInt64 = 0, halves = 0
        for (format, size) in zip(formats, result.bufferBytes) {
            let bytes = try LinkCadence(format).blocks(before: frames) * UInt64(format.blockBytes)
            expected += bytes
            halves += Int(bytes / UInt64(size / 2))
        }
        #expect(result.bytesMoved == expected)
        // One notification per finished half; a half that ends on the very last frame may
        // have its interrupt still to come.
        #expect(result.eventsServiced <= halves && result.eventsServiced >= halves - 16)
        #expect(result.ratioToMemcpy > 0 && result.medianRatioToMemcpy > 0)
        #expect(result.copiesOnlyRatioToMemcpy > 0 && result.medianCopiesOnlyRatioToMemcpy > 0)
    }

    @Test("A buffer size outside 1 KiB to 4 MiB is STATUS_INVALID_PARAMETER, and a usage error (exit 64) at the command line",
          arguments: [0, 1023, 4 << 20 + 1])
    func bufferBytesRange(bufferBytes: Int) throws {
        #expect(throws: NTStatus.invalidParameter) { try RealPathBenchmark.run(linkSeconds: 0.01, bufferBytes: bufferBytes) }
        let run = try azalia("bench", "--buffer-bytes", "\(bufferBytes)", "--seconds", "0.1", "--play-minutes", "0")
        #expect(run.status == 64)
        #expect(run.stderr.contains("--buffer-bytes must be from 1024 to 4194304"))
        #expect(run.stdout.isEmpty)
    }
}
