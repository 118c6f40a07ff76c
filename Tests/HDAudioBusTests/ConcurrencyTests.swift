import Azalia
import Dispatch
import HDAController
import HDAudio
import HDAudioBus
import Synchronization
import Testing
import TestSupport

@Suite("Concurrency")
struct ConcurrencyTests {
    static let formats: [StreamFormat] = [
        F.small, F.cd, F.stereo48, StreamFormat(rate: 96000, bits: 24, channels: 2),
        StreamFormat(rate: 192_000, bits: 16, channels: 8), StreamFormat(rate: 32000, bits: 20, channels: 3),
        StreamFormat(rate: 192_000, bits: 32, channels: 8),   // FIFO too big: BUFFER_TOO_SMALL
    ]

    @Test("Many clients allocating and freeing at random on many threads: no engine or tag handed out twice, no bandwidth lost")
    func randomAllocateFree() throws {
        let system = try makeSystem(.bidirectional4SDO, memoryPages: 4096)
        let baselinePages = system.allocatedPages
        let seed: UInt64 = 0xA2A1_5EED
        print("concurrency seed: \(String(seed, radix: 16))")
        let threads = 4
        // Descriptor index (bits 7:0 of a handle) -> holder; a second holder is a double hand-out.
        let holders = PThreadMutex<[Int: UInt]>([:])
        let problems = PThreadMutex<[String]>([])
        let operations = Atomic<Int>(0)
        let deadline = ContinuousClock.now + .milliseconds(1500)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var rng = SeededRandom(seed: seed &+ UInt64(t) &* 0x1_0000_0001)
            guard let client = try? system.openInterface(codecAddress: t % 3, version: .v2) else {
                problems.withLock { $0.append("thread \(t): open failed") }
                return
            }
            var held: [(DmaEngineHandle, hasBuffer: Bool)] = []
            while ContinuousClock.now < deadline {
                operations.add(1, ordering: .relaxed)
                let roll = Int.random(in: 0..<100, using: &rng)
                let format = ConcurrencyTests.formats.randomElement(using: &rng)!
                if roll < 40 || held.isEmpty {
                    let result: Result<DmaEngineAllocation, NTStatus>
                    if Bool.random(using: &rng) {
                        result = Result { () throws(NTStatus) in try client.allocateRenderDmaEngine(format: format, stripe: Bool.random(using: &rng)) }
                    } else {
                        result = Result { () throws(NTStatus) in try client.allocateCaptureDmaEngine(codecAddress: Int.random(in: 0..<3, using: &rng), format: format) }
                    }
                    switch result {
                    case .success(let a):
                        let slot = Int(a.handle.rawValue & 0xFF)
                        holders.withLock { h in
                            if let other = h[slot] { problems.withLock { $0.append("engine \(slot) handed to \(other) and \(a.handle)") } }
                            h[slot] = a.handle.rawValue
                        }
                        held.append((a.handle, false))
                    case .failure(let status):
                        if status != .insufficientResources && status != .bufferTooSmall {
                            problems.withLock { $0.append("allocate: \(status)") }
                        }
                    }
                } else if roll < 70 {
                    let i = Int.random(in: 0..<held.count, using: &rng)
                    let (handle, hasBuffer) = held[i]
                    if hasBuffer {
                        do { try client.freeDmaBuffer(handle) } catch { problems.withLock { $0.append("free buffer: \(error)") } }
                    }
                    holders.withLock { _ = $0.removeValue(forKey: Int(handle.rawValue & 0xFF)) }
                    do { try client.freeDmaEngine(handle) } catch { problems.withLock { $0.append("free: \(error)") } }
                    held.remove(at: i)
                } else if roll < 85 {
                    let i = Int.random(in: 0..<held.count, using: &rng)
                    if held[i].hasBuffer { continue }
                    do {
                        _ = try client.changeBandwidthAllocation(held[i].0, format: format)
                    } catch let status as NTStatus where status == .insufficientResources || status == .bufferTooSmall {
                    } catch {
                        problems.withLock { $0.append("change: \(error)") }
                    }
                } else {
                    let i = Int.random(in: 0..<held.count, using: &rng)
                    if held[i].hasBuffer { continue }
                    do {
                        _ = try client.allocateDmaBuffer(held[i].0, requestedBufferSize: Int.random(in: 1...65536, using: &rng))
                        held[i].hasBuffer = true
                        try client.setDmaEngineState(.stop, handles: [held[i].0])
                        try client.setDmaEngineState(.reset, handles: [held[i].0])
                    } catch {
                        problems.withLock { $0.append("buffer: \(error)") }
                    }
                }
                if roll % 10 == 0 {
                    let found = (try? system.bus.checkInvariants()) ?? ["checkInvariants refused at PASSIVE_LEVEL"]
                    if !found.isEmpty { problems.withLock { $0.append(contentsOf: found) } }
                }
            }
            for (handle, hasBuffer) in held {
                holders.withLock { _ = $0.removeValue(forKey: Int(handle.rawValue & 0xFF)) }
                if hasBuffer { try? client.freeDmaBuffer(handle) }
                do { try client.freeDmaEngine(handle) } catch { problems.withLock { $0.append("final free: \(error)") } }
            }
        }
        let found = problems.withLock { $0 }
        #expect(found.isEmpty, "\(found.prefix(10))")
        let ops = operations.load(ordering: .relaxed)
        #expect(ops > 100)
        print("concurrency: \(ops) operations on \(threads) threads")
        let r = (try system.bus.resources())
        #expect(r.engines.isEmpty)
        #expect(r.sdo.allSatisfy { $0.used == 0 } && r.sdi.allSatisfy { $0.used == 0 })
        #expect(r.tags[.render]!.isEmpty && r.tags[.capture]!.isEmpty)
        #expect((try system.bus.checkInvariants()).isEmpty)
        #expect(system.allocatedPages == baselinePages)
    }
}
