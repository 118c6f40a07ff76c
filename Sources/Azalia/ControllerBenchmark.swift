public import HDAudio
public import HDAController
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Measures how fast the controller simulates link time and moves sample bytes, against a
/// plain memcpy of the same bytes in the same run. The `azalia bench` command calls it.
public enum ControllerBenchmark {
    /// The figures of one run.
    public struct Result: Sendable, Hashable, Codable {
        /// The profile run.
        public var profile: String
        /// The format every engine carried (compact form).
        public var format: String
        /// Engines run (every engine of the profile).
        public var engines: Int
        /// Link time simulated, in seconds.
        public var linkSeconds: Double
        /// Wall time the simulation took, in seconds.
        public var wallSeconds: Double
        /// Simulated seconds per wall second.
        public var simulatedSecondsPerWallSecond: Double
        /// Sample bytes moved between guest memory and the link.
        public var bytesMoved: UInt64
        /// Sample bytes moved per wall second.
        public var sampleBytesPerSecond: Double
        /// Bytes per second of a plain memcpy of the same bytes (same chunk size), measured in the same run.
        public var memcpyBytesPerSecond: Double
        /// Memcpy time over simulation time for the same bytes, from the fastest round of
        /// each: every round times the simulation and then a memcpy of what it moved, so load
        /// on the machine slows both alike (goal: at least 0.5).
        public var ratioToMemcpy: Double
        /// The same ratio as the median of the rounds' own ratios.
        public var medianRatioToMemcpy: Double
        /// Sample bytes per wall second in the fastest simulation round.
        public var fastestSampleBytesPerSecond: Double
        /// Bytes per second of the fastest memcpy round.
        public var fastestMemcpyBytesPerSecond: Double
        /// Rounds run.
        public var rounds: Int
    }

    /// A demanding legal format for every engine: 192 kHz, 16-bit, 6 channels (48 bytes
    /// per frame, the most an ICH6-style input FIFO payload of 24 words allows).
    public static let defaultFormat = StreamFormat(rate: 192_000, bits: 16, channels: 6)

    /// Bytes of one BDL entry in the benchmark's buffers.
    static let entryBytes = 16 * 1024
    /// Entries per buffer.
    static let entries = 4

    /// The benchmark's codec: it copies every byte it receives on SDO into a scratch sink
    /// and fills every input packet from a scratch source, as a real codec's converters
    /// would, so each sample byte the engines move is really read and written once and
    /// the comparison with memcpy is like for like.
    final class CopyingCodec: LinkCodec {
        /// Scratch size; packets wrap around it.
        static let scratchBytes = 64 * 1024
        let sink = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
        let source = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
        private var sinkAt = 0
        private var sourceAt = 0

        init() {
            sink.initializeMemory(as: UInt8.self, repeating: 0, count: Self.scratchBytes)
            for i in 0..<Self.scratchBytes { source.storeBytes(of: UInt8(truncatingIfNeeded: i &* 31), toByteOffset: i, as: UInt8.self) }
        }

        deinit {
            sink.deallocate()
            source.deallocate()
        }

        func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {
            guard let base = data.baseAddress else { return }
            var done = 0
            while done < data.count {
                let n = min(data.count - done, Self.scratchBytes - sinkAt)
                memcpy(sink + sinkAt, base + done, n)
                sinkAt = (sinkAt + n) % Self.scratchBytes
                done += n
            }
        }

        func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int,
                          into data: UnsafeMutableRawBufferPointer) -> Bool {
            guard let base = data.baseAddress else { return true }
            var done = 0
            while done < data.count {
                let n = min(data.count - done, Self.scratchBytes - sourceAt)
                memcpy(base + done, source + sourceAt, n)
                sourceAt = (sourceAt + n) % Self.scratchBytes
                done += n
            }
            return true
        }

        func linkCommand(_ verb: UInt32) -> UInt32? { nil }

        /// What it sends never depends on what it received.
        var linkInputFollowsOutput: Bool { false }
    }

    /// A controller with one engine per format running from its own BDL (four entries of
    /// the given length, IOC on every second), a copying codec at address 0, the position
    /// buffer on, interrupts off.
    final class Rig {
        let controller: HDAController
        /// The host pointer of every BDL entry's buffer, engine by engine.
        var buffers: [UnsafeMutableRawPointer] = []

        init(profile: ControllerProfile, formats: [StreamFormat], entryBytes: [Int]) throws(NTStatus) {
            let engines = formats.count
            let pagesPerEntry = (ControllerBenchmark.entryBytes + GuestMemory.pageSize - 1) / GuestMemory.pageSize
            let memory = GuestMemory(pages: engines * (ControllerBenchmark.entries * pagesPerEntry + 1) + 1)
            let c = HDAController(profile: profile, memory: memory)
            controller = c
            c.attach(CopyingCodec(), at: 0)
            c.write32(HDARegister.gctl, GlobalControl.crst)
            c.advance(frames: profile.crstExitFrames + UInt64(LinkTiming.codecWakeFrames))
            var converters: [ConverterFormat] = []
            for f in formats { converters.append(try ConverterFormat(f)) }
            do {
                let dpl = try memory.allocate(pages: 1, contiguous: true)[0]
                c.write32(HDARegister.dplbase, dpl.low32 | 1)
                c.write32(HDARegister.dpubase, dpl.high32)
                for n in 0..<engines {
                    let length = min(entryBytes[n], ControllerBenchmark.entryBytes)
                    let bdl = try memory.allocate(pages: 1, contiguous: true)[0]
                    for i in 0..<ControllerBenchmark.entries {
                        let buffer = try memory.allocate(pages: pagesPerEntry, contiguous: true)[0]
                        buffers.append(memory.hostPointer(buffer, length: UInt64(length))!)
                        try memory.write(bdl.adding(UInt64(16 * i))!, bytes: BDLEntry(
                            address: buffer.rawValue, length: UInt32(length), interruptOnCompletion: i % 2 == 1).bytes)
                    }
                    let total = ControllerBenchmark.entries * length
                    let base = HDARegister.streamDescriptor(n)
                    c.write32(base + HDARegister.SD.cbl, UInt32(total - total % formats[n].blockBytes))
                    c.write16(base + HDARegister.SD.lvi, UInt16(ControllerBenchmark.entries - 1))
                    c.write16(base + HDARegister.SD.fmt, converters[n].rawValue)
                    c.write32(base + HDARegister.SD.bdpl, bdl.low32)
                    c.write32(base + HDARegister.SD.bdpu, bdl.high32)
                    let tag = UInt32(n % 15 + 1)
                    c.write32(base, tag << 20 | StreamControl.ioce | StreamControl.dir)
                }
            } catch {
                throw .insufficientResources
            }
            for n in 0..<engines { c.write32(HDARegister.streamDescriptor(n), c.read32(HDARegister.streamDescriptor(n)) | StreamControl.run) }
        }
    }

    /// Runs every engine of `profile` at `format` for `linkSeconds` of link time with a
    /// copying codec, then copies the same number of bytes with memcpy, and reports both.
    /// Throws STATUS_INVALID_PARAMETER for an invalid format or one that does not fit the
    /// profile's stream payloads (STATUS_BUFFER_TOO_SMALL).
    public static func run(profile: ControllerProfile = .skylakePCH, format: StreamFormat = defaultFormat,
                           linkSeconds: Double = 60) throws(NTStatus) -> Result {
        _ = try ConverterFormat(format)
        let words = try LinkBudget.fifoWords(format)
        guard words <= Int(min(profile.outstrmpay, profile.instrmpay)) else { throw .bufferTooSmall }
        // Every round needs at least one frame, or there is no ratio to report.
        guard linkSeconds * Double(LinkTiming.framesPerSecond) >= Double(rounds), linkSeconds < 1e6 else { throw .invalidParameter }
        let engines = profile.gcap.totalEngines
        let rig = try Rig(profile: profile, formats: Array(repeating: format, count: engines),
                          entryBytes: Array(repeating: entryBytes, count: engines))
        let c = rig.controller, buffers = rig.buffers
        let frames = UInt64(linkSeconds * Double(LinkTiming.framesPerSecond))
        let clock = ContinuousClock()
        // The link time is run in rounds, each followed by a memcpy of the bytes that round
        // moved, so a passing load on the machine hits both sides of a round alike; the
        // ratio reported is the median of the rounds' ratios.
        var wall = 0.0, copyWall = 0.0, bytes: UInt64 = 0, costs = RoundCosts()
        let copier = MemcpyBaseline(sources: buffers.map { ($0, entryBytes) })
        var left = frames
        for round in 0..<rounds {
            let share = round == rounds - 1 ? left : frames / UInt64(rounds)
            left -= share
            let before = c.totalBytesMoved
            let simulated = max(clock.measure { c.advance(frames: share) }.seconds, 1e-9)
            let moved = c.totalBytesMoved - before
            let copied = max(copier.measure(bytes: moved, clock: clock), 1e-9)
            wall += simulated
            copyWall += copied
            bytes += moved
            if moved > 0 { costs.add(copied / Double(moved), over: simulated / Double(moved)) }
        }
        let simulatedSeconds = Double(frames) / Double(LinkTiming.framesPerSecond)
        let bytesPerSecond = Double(bytes) / max(wall, 1e-9)
        let memcpyPerSecond = Double(bytes) / max(copyWall, 1e-9)
        let fastest = costs.fastest
        return Result(profile: profile.name, format: format.compact, engines: engines, linkSeconds: simulatedSeconds,
                      wallSeconds: wall, simulatedSecondsPerWallSecond: simulatedSeconds / max(wall, 1e-9),
                      bytesMoved: bytes, sampleBytesPerSecond: bytesPerSecond, memcpyBytesPerSecond: memcpyPerSecond,
                      ratioToMemcpy: costs.ratio, medianRatioToMemcpy: costs.medianRatio,
                      fastestSampleBytesPerSecond: costs.count == 0 ? 0 : 1 / fastest.denominator,
                      fastestMemcpyBytesPerSecond: costs.count == 0 ? 0 : 1 / fastest.numerator, rounds: costs.count)
    }

    /// The cost of unaligned engines: every engine with its own format and entry size
    /// (events on different frames) against every engine at one format and size (events
    /// on the same frames), per byte moved.
    public struct BatchingResult: Sendable, Hashable, Codable {
        /// Engines in each run.
        public var engines: Int
        /// The staggered engines' formats, in descriptor order.
        public var staggeredFormats: [String]
        /// The staggered engines' entry lengths in bytes.
        public var staggeredEntryBytes: [Int]
        /// The coincident engines' format.
        public var coincidentFormat: String
        /// Link time of each run, in seconds.
        public var linkSeconds: Double
        /// Wall nanoseconds per KiB moved, coincident (the baseline).
        public var coincidentNanosecondsPerKiB: Double
        /// Wall nanoseconds per KiB moved, staggered.
        public var staggeredNanosecondsPerKiB: Double
        /// Staggered over coincident cost per byte, from the fastest round of each (rounds
        /// alternate the two, so load on the machine slows both alike; goal: at most 1.3).
        public var ratio: Double
        /// The same ratio as the median of the rounds' own ratios.
        public var medianRatio: Double
        /// Wall nanoseconds per KiB in the fastest coincident round.
        public var fastestCoincidentNanosecondsPerKiB: Double
        /// Wall nanoseconds per KiB in the fastest staggered round.
        public var fastestStaggeredNanosecondsPerKiB: Double
        /// Rounds run.
        public var rounds: Int
    }

    /// Formats of both rate families and several channel counts, each within a 24-word
    /// stream payload, for the staggered engines.
    public static let staggeredFormats: [StreamFormat] = [
        StreamFormat(rate: 48000, bits: 16, channels: 2), StreamFormat(rate: 44100, bits: 16, channels: 2),
        StreamFormat(rate: 96000, bits: 24, channels: 2), StreamFormat(rate: 88200, bits: 16, channels: 4),
        StreamFormat(rate: 192_000, bits: 16, channels: 6), StreamFormat(rate: 176_400, bits: 16, channels: 4),
        StreamFormat(rate: 48000, bits: 32, channels: 8), StreamFormat(rate: 44100, bits: 24, channels: 6),
    ]

    /// Runs every engine of `profile` staggered (engine n: `staggeredFormats[n % 8]`, entries
    /// of 16 KiB + 128 x (2n - (engines - 1)) bytes: each its own size, a multiple of 128, and
    /// 16 KiB on average) and coincident (all at `defaultFormat`, 16 KiB entries) for
    /// `linkSeconds` each, in alternating rounds, and compares their wall time per byte moved.
    /// The sizes average the coincident ones' so that both sides take about as many events per
    /// byte, and the ratio is the cost of the events falling on different frames (until 2026-12
    /// the staggered entries were 16 KiB - 384 x n, 13.2 KiB on average: about 1.2 times the
    /// events per byte, which the ratio then counted too).
    public static func runBatching(profile: ControllerProfile = .skylakePCH, linkSeconds: Double = 10) throws(NTStatus) -> BatchingResult {
        guard linkSeconds * Double(LinkTiming.framesPerSecond) >= Double(rounds), linkSeconds < 1e6 else { throw .invalidParameter }
        let engines = profile.gcap.totalEngines
        let formats = (0..<engines).map { staggeredFormats[$0 % staggeredFormats.count] }
        let lengths = (0..<engines).map { entryBytes + 128 * (2 * $0 - (engines - 1)) }
        let staggered = try Rig(profile: profile, formats: formats, entryBytes: lengths)
        let coincident = try Rig(profile: profile, formats: Array(repeating: defaultFormat, count: engines),
                                 entryBytes: Array(repeating: entryBytes, count: engines))
        let frames = UInt64(linkSeconds * Double(LinkTiming.framesPerSecond))
        let clock = ContinuousClock()
        var costs = RoundCosts()   // staggered over coincident, per byte
        var wall = (coincident: 0.0, staggered: 0.0), bytes = (coincident: UInt64(0), staggered: UInt64(0))
        for round in 0..<rounds {
            let share = round == rounds - 1 ? frames - frames / UInt64(rounds) * UInt64(rounds - 1) : frames / UInt64(rounds)
            func measure(_ c: HDAController) -> (Double, UInt64) {
                let before = c.totalBytesMoved
                let t = clock.measure { c.advance(frames: share) }.seconds
                return (max(t, 1e-9), c.totalBytesMoved - before)
            }
            let (tc, bc) = measure(coincident.controller)
            let (ts, bs) = measure(staggered.controller)
            wall.coincident += tc; wall.staggered += ts
            bytes.coincident += bc; bytes.staggered += bs
            if bc > 0, bs > 0 { costs.add(ts / Double(bs), over: tc / Double(bc)) }
        }
        let fastest = (coincident: costs.fastest.denominator, staggered: costs.fastest.numerator)
        return BatchingResult(engines: engines, staggeredFormats: formats.map(\.compact), staggeredEntryBytes: lengths,
                              coincidentFormat: defaultFormat.compact, linkSeconds: Double(frames) / Double(LinkTiming.framesPerSecond),
                              coincidentNanosecondsPerKiB: wall.coincident * 1e9 * 1024 / Double(max(bytes.coincident, 1)),
                              staggeredNanosecondsPerKiB: wall.staggered * 1e9 * 1024 / Double(max(bytes.staggered, 1)),
                              ratio: costs.ratio, medianRatio: costs.medianRatio,
                              fastestCoincidentNanosecondsPerKiB: fastest.coincident * 1e9 * 1024,
                              fastestStaggeredNanosecondsPerKiB: fastest.staggered * 1e9 * 1024,
                              rounds: costs.count)
    }

    /// Rounds the link time is split into (see `run`).
    static let rounds = 21
}
