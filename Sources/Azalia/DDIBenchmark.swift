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
        /// How many register pairs take as long as one DDI round trip: the fastest round's
        /// round trip over the fastest round's register pair (rounds alternate the two, so
        /// load on the machine slows both alike and the fastest rounds are the least
        /// disturbed; goal: at most 60).
        public var registerPairsPerRoundTrip: Double
        /// The same ratio as the median of the rounds' own ratios.
        public var medianRegisterPairsPerRoundTrip: Double
        /// Round trips per second in the fastest round.
        public var fastestRoundTripsPerSecond: Double
        /// Register pairs per second in the fastest round.
        public var fastestRegisterPairsPerSecond: Double
        /// Rounds run.
        public var rounds: Int
    }

    /// Runs `iterations` round trips of a 48 kHz 16-bit stereo render engine with a 16 KiB
    /// buffer, then as many register pairs as it takes to measure the baseline.
    public static func run(profile: ControllerProfile = .skylakePCH, iterations: Int = 10_500) throws(NTStatus) -> Result {
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
        let platform = system.platform
        let clock = ContinuousClock()
        // Rounds alternate the DDI round trips with the register pairs, so a passing load on
        // the machine hits both sides of a round alike; the figure is the median round's.
        let rounds = max(1, min(Self.rounds, iterations))
        var costs = RoundCosts()   // a round trip over a register pair
        var ddiSeconds = 0.0, registerSeconds = 0.0, done = 0, pairsDone = 0
        var sink: UInt32 = 0
        for round in 0..<rounds {
            let count = round == rounds - 1 ? iterations - done : iterations / rounds
            var failure: NTStatus?
            let ddi = clock.measure {
                do throws(NTStatus) {
                    for _ in 0..<count {
                        let engine = try interface.allocateRenderDmaEngine(format: format, stripe: false)
                        _ = try interface.allocateDmaBuffer(engine.handle, requestedBufferSize: 16 * 1024)
                        try interface.freeDmaBuffer(engine.handle)
                        try interface.freeDmaEngine(engine.handle)
                    }
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            let pairs = count * Self.pairsPerRoundTrip
            let registers = clock.measure {
                for _ in 0..<pairs {
                    let value = platform.read32(HDARegister.intctl)
                    platform.write32(HDARegister.intctl, value)
                    sink &+= value
                }
            }
            let d = max(1e-9, ddi.seconds), r = max(1e-9, registers.seconds)
            costs.add(d / Double(count), over: r / Double(pairs))
            ddiSeconds += d
            registerSeconds += r
            done += count
            pairsDone += pairs
        }
        precondition(sink == 0 || sink != 0)  // keeps the loop from being optimised away
        let fastest = costs.fastest
        let roundTrips = Double(iterations) / ddiSeconds
        let registerRate = Double(pairsDone) / registerSeconds
        return Result(profile: profile.name, iterations: iterations, roundTripsPerSecond: roundTrips,
                      registerPairsPerSecond: registerRate, registerPairsPerRoundTrip: costs.ratio,
                      medianRegisterPairsPerRoundTrip: costs.medianRatio,
                      fastestRoundTripsPerSecond: 1 / fastest.numerator, fastestRegisterPairsPerSecond: 1 / fastest.denominator,
                      rounds: rounds)
    }

    /// Rounds the run is split into.
    static let rounds = 21
    /// Register pairs timed per DDI round trip in each round (about as long as the round trips).
    static let pairsPerRoundTrip = 60
}
