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
