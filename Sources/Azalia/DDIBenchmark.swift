import HDACodec
public import HDAController
public import HDAudio
import HDAudioBus

/// Measures DDI round trips (allocate engine + allocate buffer + free buffer + free engine)
/// through the real bus on a virtual controller, against register round trips through the
/// same platform in the same run.
public enum DDIBenchmark {
    /// The figures of one run.
    public struct Result: Sendable, Hashable, Codable {
        /// The profile.
        public var profile: String
        /// Round trips run.
        public var iterations: Int
        /// DDI round trips per wall second.
        public var roundTripsPerSecond: Double
        /// Register read + write pairs per wall second through the platform (the baseline).
        public var registerPairsPerSecond: Double
        /// How many register pairs take as long as one DDI round trip.
        public var registerPairsPerRoundTrip: Double
    }

    /// Runs `iterations` round trips of a 48 kHz 16-bit stereo render engine with a 16 KiB
    /// buffer, then as many register pairs as it takes to measure the baseline.
    public static func run(profile: ControllerProfile = .skylakePCH, iterations: Int = 2000) throws(NTStatus) -> Result {
        guard iterations > 0 else { throw .invalidParameter }
        let system: AzaliaSystem
        do {
            system = try AzaliaSystem(profile: profile, codecs: [0: VirtualCodec(address: 0)])
        } catch {
            throw .deviceNotReady
        }
        let interface = try system.openInterface(codecAddress: 0, version: .v2)
        defer { interface.close() }
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let clock = ContinuousClock()
        var failure: NTStatus?
        let ddi = clock.measure {
            do {
                for _ in 0..<iterations {
                    let engine = try interface.allocateRenderDmaEngine(format: format, stripe: false)
                    _ = try interface.allocateDmaBuffer(engine.handle, requestedBufferSize: 16 * 1024)
                    try interface.freeDmaBuffer(engine.handle)
                    try interface.freeDmaEngine(engine.handle)
                }
            } catch let status as NTStatus {
                failure = status
            } catch {
                failure = .unsuccessful
            }
        }
        if let failure { throw failure }
        let platform = system.platform
        let pairs = iterations * 200
        var sink: UInt32 = 0
        let registers = clock.measure {
            for _ in 0..<pairs {
                let value = platform.read32(HDARegister.intctl)
                platform.write32(HDARegister.intctl, value)
                sink &+= value
            }
        }
        precondition(sink == 0 || sink != 0)  // keeps the loop from being optimised away
        let ddiSeconds = max(1e-9, ddi.seconds), registerSeconds = max(1e-9, registers.seconds)
        let roundTrips = Double(iterations) / ddiSeconds
        let registerRate = Double(pairs) / registerSeconds
        return Result(profile: profile.name, iterations: iterations, roundTripsPerSecond: roundTrips,
                      registerPairsPerSecond: registerRate, registerPairsPerRoundTrip: registerRate / roundTrips)
    }
}
