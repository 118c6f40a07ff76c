import HDACodec
public import HDAController
public import HDAudio
import HDAudioBus
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The DMA figure on the path a real function driver takes: the bus started on the
/// platform, interrupts enabled (INTCTL programmed by the bus), every IOC taken by the
/// bus's ISR and DPC, a notification event per engine, a client that refills (render) or
/// empties (capture) the half of the cyclic buffer just finished on every event, mixed
/// formats of both rate families and several channel counts, and the virtual codec's
/// converters receiving and sending the streams. Its baseline is a memcpy of the same
/// bytes from the client's buffers into a destination of the same footprint as the DMA
/// buffers, in the same run.
public enum RealPathBenchmark {
    /// The figures of one run.
    public struct Result: Sendable, Hashable, Codable {
        /// The profile run.
        public var profile: String
        /// Each engine's direction and format ("out 48000/16/2").
        public var streams: [String]
        /// The cyclic buffer each engine asked for, in bytes.
        public var requestedBufferBytes: Int
        /// Each engine's cyclic buffer in bytes (as allocated: whole blocks).
        public var bufferBytes: [Int]
        /// Link time simulated, in seconds.
        public var linkSeconds: Double
        /// Wall time the simulation took (the client's refills included), in seconds.
        public var wallSeconds: Double
        /// Sample bytes the engines moved.
        public var bytesMoved: UInt64
        /// Notification events the client serviced (each a half buffer refilled or emptied).
        public var eventsServiced: Int
        /// Sample bytes moved per wall second.
        public var sampleBytesPerSecond: Double
        /// Bytes per second of a memcpy of the same bytes in the same run.
        public var memcpyBytesPerSecond: Double
        /// Memcpy time over path time for the same bytes, from the fastest round of each
        /// (rounds alternate, so load on the machine slows both alike; goal: at least 0.5).
        public var ratioToMemcpy: Double
        /// The same ratio as the median of the rounds' own ratios.
        public var medianRatioToMemcpy: Double
        /// Sample bytes per wall second in the fastest path round.
        public var fastestSampleBytesPerSecond: Double
        /// Bytes per second of the fastest memcpy round.
        public var fastestMemcpyBytesPerSecond: Double
        /// Rounds run.
        public var rounds: Int
        /// The same bytes through the path's copies alone, with no controller, bus or codec
        /// (`CopyFloor`): memcpy time over copies-only time, from the fastest round of each
        /// (alternating with the other two sides). No implementation of the path can beat it,
        /// since every byte is copied twice (client to DMA buffer and DMA buffer to
        /// converter, or the reverse); `ratioToMemcpy` over this is the share of the
        /// reachable figure the path reaches.
        public var copiesOnlyRatioToMemcpy: Double
        /// The same as the median of the rounds' own ratios.
        public var medianCopiesOnlyRatioToMemcpy: Double
    }

    /// The render engines' formats: both rate families, 2 to 8 channels, 16- and 32-bit
    /// samples, 928 of the 960 bits a frame's SDO line carries (OUTPAY 0x3C).
    public static let outputFormats: [StreamFormat] = [
        StreamFormat(rate: 48000, bits: 16, channels: 2), StreamFormat(rate: 44100, bits: 16, channels: 2),
        StreamFormat(rate: 96000, bits: 16, channels: 2), StreamFormat(rate: 88200, bits: 16, channels: 4),
        StreamFormat(rate: 192_000, bits: 16, channels: 2), StreamFormat(rate: 176_400, bits: 16, channels: 2),
        StreamFormat(rate: 48000, bits: 32, channels: 8), StreamFormat(rate: 44100, bits: 16, channels: 6),
        StreamFormat(rate: 48000, bits: 16, channels: 4),
    ]
    /// The capture engines' formats: both families, 1 to 4 channels, 406 of the 464 bits of
    /// the codec's SDI line (INPAY 0x1D, a 10-bit header per stream).
    public static let inputFormats: [StreamFormat] = [
        StreamFormat(rate: 48000, bits: 16, channels: 2), StreamFormat(rate: 44100, bits: 16, channels: 2),
        StreamFormat(rate: 96000, bits: 16, channels: 2), StreamFormat(rate: 88200, bits: 16, channels: 2),
        StreamFormat(rate: 48000, bits: 16, channels: 4), StreamFormat(rate: 44100, bits: 32, channels: 2),
        StreamFormat(rate: 48000, bits: 16, channels: 1),
    ]
    /// The buffer each engine asks for by default (two notifications: 8 KiB half buffers).
    public static let defaultBufferBytes = 16 * 1024
    /// The buffer sizes a run may ask for.
    public static let bufferBytesRange = 1024...(4 << 20)

    /// The path's copies with nothing else: for each engine in turn, a half buffer copied
    /// from the client's buffer into a DMA buffer of the engine's size and from there into
    /// the converter's ring (render), or from the ring into the DMA buffer and from there
    /// into the client's buffer (capture); every byte twice, as the path moves it. The DMA
    /// buffers are host memory of the same sizes as the path's.
    struct CopyFloor {
        let clients: [Client]
        /// A ring per engine, of the size the path's converters have.
        let rings: [Ring]
        let buffers: [UnsafeMutableRawPointer]
        /// What the rings are told (they copy bytes and ignore it).
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)

        init(clients: [Client], ringBytes: Int) {
            self.clients = clients
            rings = clients.map { _ in Ring(size: ringBytes) }
            buffers = clients.map { c in
                let b = UnsafeMutableRawPointer.allocate(byteCount: max(c.size, 1), alignment: 4096)
                b.initializeMemory(as: UInt8.self, repeating: 0, count: max(c.size, 1))
                return b
            }
        }

        func deallocate() { for b in buffers { b.deallocate() } }

        /// Wall seconds to move `bytes` bytes, half buffer by half buffer, engine by engine.
        func measure(bytes: UInt64, clock: ContinuousClock) -> Double {
            guard !clients.isEmpty else { return 0 }
            var halves = [Int](repeating: 0, count: clients.count)
            return clock.measure {
                var left = bytes, i = 0
                while left > 0 {
                    let c = clients[i], half = c.size / 2
                    let n = Int(min(UInt64(max(half, 1)), left))
                    let at = halves[i] * half
                    if c.output {
                        memcpy(buffers[i] + at, c.data + at, n)
                        rings[i].consume(UnsafeRawBufferPointer(start: buffers[i] + at, count: n), blocks: 0, format: format)
                    } else {
                        _ = rings[i].produce(into: UnsafeMutableRawBufferPointer(start: buffers[i] + at, count: n), blocks: 0, format: format)
                        memcpy(c.data + at, buffers[i] + at, n)
                    }
                    halves[i] ^= 1
                    i = (i + 1) % clients.count
                    left -= UInt64(n)
                }
            }.seconds
        }
    }

    /// A converter's far side, a ring of bytes the size of the engine's buffer: as a DAC's
    /// sink it copies every byte it receives into the ring (as a converter reads every
    /// sample); as an ADC's source it fills every packet from the ring's pattern.
    final class Ring: SampleSink, SampleSource {
        let bytes: UnsafeMutableRawPointer
        let size: Int
        private var at = 0

        init(size: Int) {
            self.size = max(size, 1)
            bytes = UnsafeMutableRawPointer.allocate(byteCount: self.size, alignment: 64)
            for i in 0..<self.size { bytes.storeBytes(of: UInt8(truncatingIfNeeded: i &* 13), toByteOffset: i, as: UInt8.self) }
        }

        deinit { bytes.deallocate() }

        func consume(_ data: UnsafeRawBufferPointer, blocks: Int, format: StreamFormat) {
            guard let base = data.baseAddress else { return }
            wrapping(data.count) { done, offset, n in memcpy(bytes + offset, base + done, n) }
        }

        func produce(into data: UnsafeMutableRawBufferPointer, blocks: Int, format: StreamFormat) -> Int {
            guard let base = data.baseAddress else { return 0 }
            wrapping(data.count) { done, offset, n in memcpy(base + done, bytes + offset, n) }
            return blocks
        }

        /// Splits `count` bytes into the pieces the ring takes from where it stands (wrapping
        /// at its end): `body(done, ring offset, length)` for each.
        private func wrapping(_ count: Int, _ body: (Int, Int, Int) -> Void) {
            var done = 0
            while done < count {
                let n = min(count - done, size - at)
                body(done, at, n)
                at = (at + n) % size
                done += n
            }
        }
    }

    /// One engine's client: on each notification it refills (render) or copies out
    /// (capture) the half of the cyclic buffer the engine has just finished, alternating.
    final class Client: Sendable {
        let platform: VirtualPlatform
        let output: Bool
        /// The guest pieces of each half of the cyclic buffer.
        let halves: [[(address: UInt64, count: Int)]]
        let size: Int
        /// The client's own copy of the buffer (what it plays, or where it records to).
        nonisolated(unsafe) let data: UnsafeMutableRawPointer
        private let next = Mutex(0)
        let serviced = Atomic<Int>(0)

        init(platform: VirtualPlatform, output: Bool, mdl: MemoryDescriptorList, size: Int) {
            self.platform = platform
            self.output = output
            self.size = size
            let half = size / 2
            halves = [mdl.segments(of: 0..<half), mdl.segments(of: half..<size)]
            data = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 64)
            for i in 0..<size { data.storeBytes(of: UInt8(truncatingIfNeeded: i &* 7), toByteOffset: i, as: UInt8.self) }
        }

        deinit { data.deallocate() }

        /// Fills the whole buffer before the start (render).
        func prefill() {
            for h in 0..<2 { move(half: h) }
        }

        /// The notification: the half just finished is refilled or emptied.
        func service() {
            let h = next.withLock { n in
                let h = n
                n ^= 1
                return h
            }
            move(half: h)
            serviced.add(1, ordering: .relaxed)
        }

        private func move(half h: Int) {
            var offset = h * (size / 2)
            for piece in halves[h] {
                if output {
                    _ = platform.writeMemory(piece.address, from: UnsafeRawBufferPointer(start: data + offset, count: piece.count))
                } else {
                    _ = platform.readMemory(piece.address, into: UnsafeMutableRawBufferPointer(start: data + offset, count: piece.count))
                }
                offset += piece.count
            }
        }
    }

    /// Runs every engine of `profile` (outputs at `outputFormats`, inputs at `inputFormats`,
    /// cycled) for `linkSeconds` of link time through the bus, in rounds alternating with a
    /// memcpy of the bytes each round moved.
    /// Each engine asks for a cyclic buffer of `bufferBytes` (the bus may round it down to
    /// whole blocks), notified twice per pass.
    public static func run(profile: ControllerProfile = .skylakePCH, linkSeconds: Double = 10,
                           bufferBytes: Int = defaultBufferBytes) throws(NTStatus) -> Result {
        guard linkSeconds * Double(LinkTiming.framesPerSecond) >= Double(rounds), linkSeconds < 1e6,
              bufferBytesRange.contains(bufferBytes) else { throw .invalidParameter }
        let outputs = Array(profile.layout.indices(of: .output)).count + Array(profile.layout.indices(of: .bidirectional)).count
        let inputs = Array(profile.layout.indices(of: .input)).count
        let plan: [(output: Bool, format: StreamFormat)] =
            (0..<outputs).map { (true, outputFormats[$0 % outputFormats.count]) }
            + (0..<inputs).map { (false, inputFormats[$0 % inputFormats.count]) }
        let codec = VirtualCodec(address: 0, configuration: CodecConfiguration(dacCount: outputs, adcCount: inputs))
        let dacs = codec.dacNodes, adcs = codec.adcNodes
        // The sinks and sources are the size of the engine's buffer (known before allocation
        // only as requested; the bus rounds it to whole blocks, which is smaller or equal).
        for i in 0..<outputs { codec.setSink(Ring(size: bufferBytes), dac: i) }
        for i in 0..<inputs { codec.setSource(Ring(size: bufferBytes), adc: i) }
        let system: AzaliaSystem
        do {
            system = try AzaliaSystem(profile: profile, memoryPages: plan.count * (bufferBytes / 4096 + 2) + 256, codecs: [0: codec])
        } catch {
            throw .deviceNotReady
        }
        let interface = try system.openInterface(codecAddress: 0, version: .v2)
        defer { interface.close() }
        var handles: [DmaEngineHandle] = [], clients: [Client] = [], sizes: [Int] = []
        var buffers: [(DmaEngineHandle, NotificationBufferAllocation, NotificationEvent)] = []
        defer {
            try? interface.setDmaEngineState(.stop, handles: handles)
            try? interface.setDmaEngineState(.reset, handles: handles)
            for (h, b, e) in buffers {
                try? interface.unregisterNotificationEvent(h, event: e)
                try? interface.freeDmaBufferWithNotification(h, bufferMdl: b.mdl, bufferSize: b.allocatedBufferSize)
            }
            for h in handles { try? interface.freeDmaEngine(h) }
        }
        var dacIndex = 0, adcIndex = 0
        for (output, format) in plan {
            let engine = output ? try interface.allocateRenderDmaEngine(format: format, stripe: false)
                                : try interface.allocateCaptureDmaEngine(codecAddress: 0, format: format)
            handles.append(engine.handle)
            let b = try interface.allocateDmaBufferWithNotification(engine.handle, notificationCount: 2,
                                                                    requestedBufferSize: bufferBytes)
            let client = Client(platform: system.platform, output: output, mdl: b.mdl, size: b.allocatedBufferSize)
            let event = NotificationEvent(name: "engine \(handles.count - 1)") { _ in client.service() }
            try interface.registerNotificationEvent(engine.handle, event: event)
            buffers.append((engine.handle, b, event))
            clients.append(client)
            sizes.append(b.allocatedBufferSize)
            // The converter listens to (or sends) the engine's tag in its format.
            let node = output ? dacs[dacIndex] : adcs[adcIndex]
            if output { dacIndex += 1 } else { adcIndex += 1 }
            _ = try interface.transferCodecVerbs([
                CodecTransfer(verb: CodecVerb.setFormat(codec: 0, node: node, engine.converterFormat).rawValue),
                CodecTransfer(verb: CodecVerb.setStream(codec: 0, node: node, tag: b.streamId).rawValue),
            ])
            if output { client.prefill() }
        }
        try interface.setDmaEngineState(.stop, handles: handles)   // Reset -> Stop -> Run, as the DDI requires
        try interface.setDmaEngineState(.run, handles: handles)

        let frames = UInt64(linkSeconds * Double(LinkTiming.framesPerSecond))
        let clock = ContinuousClock()
        let copier = MemcpyBaseline(sources: clients.map { ($0.data, $0.size) })
        let floor = CopyFloor(clients: clients, ringBytes: bufferBytes)
        defer { floor.deallocate() }
        var costs = RoundCosts()   // memcpy over the path, per byte
        var floorCosts = RoundCosts()   // memcpy over the copies alone, per byte
        var wall = 0.0, copyWall = 0.0, bytes: UInt64 = 0
        let platform = system.platform
        for round in 0..<rounds {
            let share = round == rounds - 1 ? frames - frames / UInt64(rounds) * UInt64(rounds - 1) : frames / UInt64(rounds)
            let before = platform.withController { $0.totalBytesMoved }
            let t = max(clock.measure { system.advance(frames: share) }.seconds, 1e-9)
            let moved = platform.withController { $0.totalBytesMoved } - before
            let c = max(copier.measure(bytes: moved, clock: clock), 1e-9)
            let f = max(floor.measure(bytes: moved, clock: clock), 1e-9)
            guard moved > 0 else { continue }
            wall += t; copyWall += c; bytes += moved
            costs.add(c / Double(moved), over: t / Double(moved))
            floorCosts.add(c / Double(moved), over: f / Double(moved))
        }
        guard costs.count > 0 else { throw .unsuccessful }
        let fastest = costs.fastest
        return Result(profile: profile.name, streams: plan.map { "\($0.output ? "out" : "in") \($0.format.compact)" },
                      requestedBufferBytes: bufferBytes, bufferBytes: sizes, linkSeconds: Double(frames) / Double(LinkTiming.framesPerSecond),
                      wallSeconds: wall, bytesMoved: bytes, eventsServiced: clients.reduce(0) { $0 + $1.serviced.load(ordering: .relaxed) },
                      sampleBytesPerSecond: Double(bytes) / max(wall, 1e-9), memcpyBytesPerSecond: Double(bytes) / max(copyWall, 1e-9),
                      ratioToMemcpy: costs.ratio, medianRatioToMemcpy: costs.medianRatio,
                      fastestSampleBytesPerSecond: 1 / fastest.denominator, fastestMemcpyBytesPerSecond: 1 / fastest.numerator,
                      rounds: costs.count, copiesOnlyRatioToMemcpy: floorCosts.ratio,
                      medianCopiesOnlyRatioToMemcpy: floorCosts.medianRatio)
    }

    /// Rounds the link time is split into.
    static let rounds = 15
}
