public import HDAController
import HDAudio
public import HDAudioBus
import Synchronization

/// The bus driver's platform over one virtual controller: `HDAPlatform` for `HDAController`.
///
/// The controller (not Sendable) lives inside a `PThreadMutex`; every register access, memory
/// access and time step locks it briefly. Time moves through `advance(frames:)` and
/// through stalls: a stall of N us advances the link by N x 24 BCLK, the remainder below
/// one frame (500 BCLK) carried over, so 100 stalls of 3 us move exactly 300 us of link
/// time. Interrupts are delivered to the frame, each on its own (reference section 6: IOCs
/// are never merged into one notification): an interrupt already asserted when time is
/// about to move (one a register write raised) is delivered first; time then moves with
/// `advance(frames:stopAtInterrupt:)`, which stops after every frame that raises a new
/// cause, and the ISR runs outside the controller lock, at DIRQL (one ISR at a time), then
/// its DPC at DISPATCH_LEVEL. A thread at DIRQL (inside the ISR) has the line masked: time
/// it moves delivers nothing until the ISR returns. IRQL is per thread (a task-local
/// value): raised while an ISR or DPC runs.
public final class VirtualPlatform: HDAPlatform {
    struct Machine: ~Copyable {
        let controller: HDAController
        var bclkRemainder: UInt64 = 0
    }

    private struct Connection: Sendable {
        let isr: @Sendable () -> Bool
        let deferred: @Sendable () -> Void
    }

    private let machine: PThreadMutex<Machine>
    private let connection = PThreadMutex<Connection?>(nil)
    private let interruptObserver = PThreadMutex<(@Sendable (InterruptDelivery) -> Void)?>(nil)
    /// Serialises ISR calls, like an interrupt spin lock.
    private let interruptLock = PThreadMutex<Int>(0)
    /// One-shot timers (`setTimer`): the link frame each fires at, and its DPC.
    private let timers = PThreadMutex<[(frame: UInt64, work: @Sendable () -> Void)]>([])
    /// The earliest timer's frame (UInt64.max with none), kept under the timers' lock, so
    /// that a stall or an advance with no timer set (the common case: every poll of a
    /// handshake) looks at one atomic instead of taking locks and building arrays.
    private let earliestTimer = Atomic<UInt64>(.max)
    /// Set when a delivery was skipped because the thread was at DIRQL (the line masked).
    private let missedDelivery = Atomic<Bool>(false)
    /// The PCI identity, from the profile.
    public let pciIdentity: PCIIdentity
    /// The controller's profile.
    public let profile: ControllerProfile

    @TaskLocal static var threadIRQL: IRQL = .passive

    /// A platform that owns `controller` (and, through it, its guest memory).
    public init(controller: sending HDAController) {
        let profile = controller.profile
        self.profile = profile
        pciIdentity = PCIIdentity(vendorId: profile.pciVendor, deviceId: profile.pciDevice, revision: profile.revision)
        machine = PThreadMutex(Machine(controller: controller))
    }

    // MARK: registers

    /// Reads an 8-bit register.
    public func read8(_ offset: UInt32) -> UInt8 { machine.withLock { $0.controller.read8(offset) } }
    /// Reads a 16-bit register.
    public func read16(_ offset: UInt32) -> UInt16 { machine.withLock { $0.controller.read16(offset) } }
    /// Reads a 32-bit register.
    public func read32(_ offset: UInt32) -> UInt32 { machine.withLock { $0.controller.read32(offset) } }
    /// Writes an 8-bit register.
    public func write8(_ offset: UInt32, _ value: UInt8) { machine.withLock { $0.controller.write8(offset, value) } }
    /// Writes a 16-bit register.
    public func write16(_ offset: UInt32, _ value: UInt16) { machine.withLock { $0.controller.write16(offset, value) } }
    /// Writes a 32-bit register.
    public func write32(_ offset: UInt32, _ value: UInt32) { machine.withLock { $0.controller.write32(offset, value) } }

    // MARK: memory

    /// 4096.
    public var pageSize: Int { GuestMemory.pageSize }

    /// Allocates guest pages; nil when guest memory runs out (nothing left allocated).
    public func allocatePages(count: Int, contiguous: Bool) -> [UInt64]? {
        machine.withLock { m in
            guard count > 0, let pages = try? m.controller.memory.allocate(pages: count, contiguous: contiguous) else { return nil }
            return pages.map(\.rawValue)
        }
    }

    /// Frees guest pages.
    public func freePages(_ pages: [UInt64]) {
        machine.withLock { $0.controller.memory.free(pages.map { GuestAddress($0) }) }
    }

    /// Reads guest memory; false when the range is not RAM.
    public func readMemory(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        // Straight into the caller's buffer under the lock, no array in between: the pointer
        // crosses into the lock as an address (it is used only during this call).
        let start = Int(bitPattern: buffer.baseAddress), count = buffer.count
        return machine.withLock { m in
            let destination = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: start), count: count)
            return (try? m.controller.memory.read(GuestAddress(address), into: destination)) != nil
        }
    }

    /// Writes guest memory; false when the range is not RAM.
    public func writeMemory(_ address: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        // Straight from the caller's buffer under the lock, no array in between: the pointer
        // crosses into the lock as an address (it is used only during this call).
        let start = Int(bitPattern: buffer.baseAddress), count = buffer.count
        return machine.withLock { m in
            let source = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: start), count: count)
            return (try? m.controller.memory.write(GuestAddress(address), from: source)) != nil
        }
    }

    /// Zeros whole pages under one lock acquisition; false when one is not RAM.
    public func zeroPages(_ pages: [UInt64]) -> Bool {
        let size = GuestMemory.pageSize
        return machine.withLock { m in
            var all = true
            for page in pages {
                guard let host = m.controller.memory.hostPointer(GuestAddress(page), length: UInt64(size)) else {
                    all = false
                    continue
                }
                host.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            }
            return all
        }
    }

    /// Guest pages allocated now.
    public var allocatedPages: Int { machine.withLock { $0.controller.memory.allocatedPages } }
    /// Guest pages free now.
    public var freePageCount: Int { machine.withLock { $0.controller.memory.freePages } }

    // MARK: time and interrupts

    /// Advances link time by `microseconds` (24 BCLK each, sub-frame remainder carried),
    /// delivering interrupts on the way (an interrupt already pending first).
    public func stall(microseconds: UInt64) {
        let (frames, pending) = machine.withLock { m in
            let (bclk, overflow) = microseconds.multipliedReportingOverflow(by: LinkTiming.bitClockHz / 1_000_000)
            let total = overflow ? UInt64.max : bclk &+ m.bclkRemainder
            m.bclkRemainder = total % LinkTiming.bitClocksPerFrame
            return (total / LinkTiming.bitClocksPerFrame, m.controller.interruptAsserted)
        }
        advance(frames: frames, pending: pending)
    }

    /// Polls a register as the default `poll8` does (the same reads at the same link times),
    /// but under one lock acquisition for as long as nothing outside the controller has to
    /// run: a stall that ends inside the current frame moves only the sub-frame remainder,
    /// and one that reaches a frame boundary advances the controller there as `stall` would
    /// (the same `advance(frames:stopAtInterrupt:)` call under the same lock). Only when an
    /// interrupt is pending or raised, or a timer is set, does the poll leave the lock: the
    /// rest of that stall then goes through `advance(frames:pending:)`, which delivers the
    /// interrupt (and fires timers) on its frame, exactly as `stall` does. A byte that
    /// changes only at the controller's events (SDnCTL, the SRST handshake's register) is
    /// not read again before the next event's frame (`unchangedSteps`): the stalls in
    /// between move time in one step, and the read that follows comes at the same link time
    /// as in the default loop.
    public func poll8(_ offset: UInt32, every: UInt64, limit: UInt64, until done: (UInt8) -> Bool) -> Bool {
        /// What the locked part of a poll ends with.
        enum Step { case finished(Bool), stall, advance(frames: UInt64, pending: Bool) }
        var waited: UInt64 = 0
        let (step, overflow) = every.multipliedReportingOverflow(by: LinkTiming.bitClockHz / 1_000_000)
        while true {
            let next: Step = machine.withLock { m in
                while true {
                    if done(m.controller.read8(offset)) { return .finished(true) }
                    if waited >= limit { return .finished(false) }
                    let timerSet = earliestTimer.load(ordering: .acquiring) != .max
                    guard !overflow, !timerSet, !m.controller.interruptAsserted else { return .stall }
                    let steps = Self.unchangedSteps(m, offset, every: every, step: step, left: limit - waited)
                    waited += steps * every
                    let total = m.bclkRemainder + steps * step
                    m.bclkRemainder = total % LinkTiming.bitClocksPerFrame
                    let frames = total / LinkTiming.bitClocksPerFrame
                    guard frames > 0 else { continue }
                    let moved = m.controller.advance(frames: frames, stopAtInterrupt: true)
                    if moved < frames || m.controller.interruptAsserted {
                        return .advance(frames: frames - moved, pending: m.controller.interruptAsserted)
                    }
                }
            }
            switch next {
            case .finished(let result):
                return result
            case .stall:
                stall(microseconds: every)
                waited += every
            case .advance(let frames, let pending):
                advance(frames: frames, pending: pending)
            }
        }
    }

    /// The stalls a poll of the byte at `offset` takes before its next read (at least one):
    /// when the controller changes that byte only at its next event
    /// (`changesOnlyAtEvents(byte:)`), as many as reach that event's frame, or `left` us
    /// (the rest of the limit) when none is scheduled; the reads this skips would return
    /// the value just read, and `done` looks at nothing else. Otherwise one. `step` is a
    /// stall of `every` us in BCLK.
    private static func unchangedSteps(_ m: borrowing Machine, _ offset: UInt32, every: UInt64, step: UInt64,
                                       left: UInt64) -> UInt64 {
        guard every > 0, step > 0, m.controller.changesOnlyAtEvents(byte: offset) else { return 1 }
        // Stalls until the limit is reached (the poll reads once more, then gives up).
        let toLimit = (left + every - 1) / every
        guard toLimit > 1, toLimit.multipliedReportingOverflow(by: step).overflow == false else { return 1 }
        let now = m.controller.frame
        guard let next = m.controller.nextEventFrame else { return toLimit }
        guard next > now else { return 1 }
        // The fewest stalls whose BCLK reach the event's frame.
        let (frames, overflow) = (next - now).multipliedReportingOverflow(by: LinkTiming.bitClocksPerFrame)
        guard !overflow else { return toLimit }
        let need = frames > m.bclkRemainder ? frames - m.bclkRemainder : 0
        return max(1, min(toLimit, (need + step - 1) / step))
    }

    /// Advances link time by `frames`, delivering interrupts to the frame: an interrupt
    /// already asserted (raised by a register write, or left pending) is delivered before
    /// time moves, and time stops after every frame that raises a new interrupt cause while
    /// the line is asserted (every IOC is its own notification, never merged with another
    /// pending interrupt) to run the ISR (and its DPC) outside the controller lock.
    public func advance(frames: UInt64) {
        advance(frames: frames, pending: machine.withLock { $0.controller.interruptAsserted })
    }

    /// `advance(frames:)`, with the line's state read by the caller under its own lock.
    private func advance(frames: UInt64, pending: Bool) {
        var remaining = frames
        var asserted = pending
        while true {
            if asserted { deliverInterrupt() }
            fireTimers()
            guard remaining > 0 else { return }
            let earliest = earliestTimer.load(ordering: .acquiring)
            let nextTimer: UInt64? = earliest == .max ? nil : timers.withLock { $0.map(\.frame).min() }
            let done: UInt64
            (done, asserted) = machine.withLock { m in
                // Time stops at the next timer too, so that its DPC runs on its frame.
                let untilTimer = nextTimer.map { $0 > m.controller.frame ? $0 - m.controller.frame : 1 } ?? remaining
                let done = m.controller.advance(frames: min(remaining, untilTimer), stopAtInterrupt: true)
                return (done, m.controller.interruptAsserted)
            }
            remaining -= min(done, remaining)
            if done == 0 { return }   // the end of 64-bit link time
        }
    }

    /// A one-shot timer: `work` runs at DISPATCH_LEVEL once link time has moved
    /// `microseconds` (rounded up to whole frames, at least one), from whichever advance or
    /// stall moves it there; a thread at DIRQL leaves it for the next.
    public func setTimer(microseconds: UInt64, _ work: @escaping @Sendable () -> Void) -> Bool {
        let (bclk, overflow) = microseconds.multipliedReportingOverflow(by: LinkTiming.bitClockHz / 1_000_000)
        let frames = overflow ? UInt64.max / 2 : max(1, (bclk + LinkTiming.bitClocksPerFrame - 1) / LinkTiming.bitClocksPerFrame)
        let now = frame
        let (at, late) = now.addingReportingOverflow(frames)
        timers.withLock { t in
            t.append((late ? UInt64.max : at, work))
            earliestTimer.store(t.map(\.frame).min() ?? .max, ordering: .releasing)
        }
        return true
    }

    /// Runs the timers whose frame has come, oldest first, at DISPATCH_LEVEL.
    private func fireTimers() {
        guard earliestTimer.load(ordering: .acquiring) != .max, VirtualPlatform.threadIRQL < .dirql else { return }
        while true {
            let now = frame
            let due: (@Sendable () -> Void)? = timers.withLock { t in
                guard let i = t.indices.filter({ t[$0].frame <= now }).min(by: { t[$0].frame < t[$1].frame }) else { return nil }
                let work = t.remove(at: i).work
                earliestTimer.store(t.map(\.frame).min() ?? .max, ordering: .releasing)
                return work
            }
            guard let due else { return }
            withIRQL(.dispatch) { due() }
        }
    }

    /// Runs the ISR at DIRQL if the interrupt line is asserted, then its DPC at DISPATCH.
    ///
    /// Never re-entered: on a thread already at DIRQL (inside the ISR, where hardware masks
    /// the line, or raised to DIRQL by a caller) delivery is skipped and the interrupt stays
    /// pending; it is delivered as soon as the ISR returns (this routine checks again), or
    /// else before time next moves.
    public func deliverInterrupt() {
        guard let c = connection.withLock({ $0 }) else { return }
        if VirtualPlatform.threadIRQL >= .dirql {
            missedDelivery.store(true, ordering: .relaxed)
            return
        }
        let observer = interruptObserver.withLock { $0 }
        while machine.withLock({ $0.controller.interruptAsserted }) {
            missedDelivery.store(false, ordering: .relaxed)
            // What the ISR is about to see (read only when someone observes).
            let seen = observer == nil ? nil : machine.withLock { m in
                (m.controller.frame, m.controller.read32(HDARegister.intsts))
            }
            let claimed = interruptLock.withLock { _ in
                withIRQL(.dirql) { c.isr() }
            }
            if claimed { withIRQL(.dispatch) { c.deferred() } }
            if let observer, let seen { observer(InterruptDelivery(frame: seen.0, intsts: seen.1, claimed: claimed)) }
            // Again only when the ISR itself moved time and so masked a new interrupt.
            guard missedDelivery.load(ordering: .relaxed) else { return }
        }
    }

    /// Connects the ISR and its DPC.
    public func connectInterrupt(_ isr: @escaping @Sendable () -> Bool, deferred: @escaping @Sendable () -> Void) {
        connection.withLock { $0 = Connection(isr: isr, deferred: deferred) }
    }

    /// Installs (or, with nil, removes) an observer told of every ISR run, after the ISR
    /// (and its DPC, when claimed) returned, outside every lock: for traces. Additive: the
    /// bus driver does not see it, and delivery is unchanged.
    public func observeInterrupts(_ observer: (@Sendable (InterruptDelivery) -> Void)?) {
        interruptObserver.withLock { $0 = observer }
    }

    /// The calling thread's (task's) IRQL.
    public var currentIRQL: IRQL { VirtualPlatform.threadIRQL }

    /// Runs `body` at `level` or the current IRQL, whichever is higher.
    public func withIRQL<R, E: Error>(_ level: IRQL, _ body: () throws(E) -> R) throws(E) -> R {
        let current = VirtualPlatform.threadIRQL
        // Already there (a DPC's deferred work run from the DPC, say): nothing to raise.
        if level <= current { return try body() }
        var result: Result<R, E>? = nil
        VirtualPlatform.$threadIRQL.withValue(level) {
            result = Result { () throws(E) -> R in try body() }
        }
        return try result!.get()
    }

    // MARK: the controller

    /// The current link frame.
    public var frame: UInt64 { machine.withLock { $0.controller.frame } }

    /// Stall time carried over below one frame, in BCLK (0 to 499).
    public var subFrameBCLK: UInt64 { machine.withLock { $0.bclkRemainder } }

    /// Runs `body` with the controller, under the lock (for tests and tools: fault
    /// injection, statistics). `body` must not call back into the platform.
    public func withController<R, E: Error>(_ body: (HDAController) throws(E) -> sending R) throws(E) -> sending R {
        try machine.withLock { (m: inout Machine) throws(E) -> sending R in try body(m.controller) }
    }
}

/// One delivery of the controller's interrupt to the connected ISR, as an observer of
/// `VirtualPlatform` sees it.
public struct InterruptDelivery: Sendable, Hashable {
    /// The link frame at which the ISR ran.
    public var frame: UInt64
    /// INTSTS just before the ISR ran (bit 31 GIS, 30 CIS, bit n stream n).
    public var intsts: UInt32
    /// Whether the ISR claimed the interrupt (and so its DPC ran).
    public var claimed: Bool
}
