public import HDAudio
import Synchronization

/// The HD Audio bus driver: the hdaudio.h DMA DDI over a controller it knows only
/// through `HDAPlatform` (registers, DMA pages, a stall, an interrupt line, the IRQL).
///
/// Start it with `init(platform:)`, then open one interface per function driver with
/// `openInterface(codecAddress:version:)`. Thread-safe: every DDI routine runs under one
/// bus lock. **Deadlock rule**: the bus stalls (and so may see interrupts) while it holds
/// that lock, so its ISR never takes it: what the ISR needs (where each stream's
/// interrupt goes) lives behind a separate small lock, and the DISPATCH-level work the
/// ISR queues (signalling notification events, running their callbacks) is deferred
/// until the bus lock is free: the thread that holds it runs the queue when it releases.
public final class HDAudioBus: Sendable {
    /// The platform the bus drives.
    public let platform: any HDAPlatform
    /// What the bus read from the controller at start.
    public let configuration: BusConfiguration
    /// The size rounding and BDL layout of DMA buffers, for the platform's page size.
    public let bufferLayout: DmaBufferLayout

    let state: Mutex<BusState>
    let interruptTargets: Mutex<[Int: InterruptTarget]>
    let deferredWork: Mutex<[@Sendable () -> Void]>
    let pendingCloses = Mutex<[UInt32]>([])
    let commands = Mutex(CommandState())

    /// The bus driver's version, reported as DriverVersion.
    public static let driverVersion: UInt16 = 0x0100
    /// Notification events one engine can hold (RegisterNotificationEvent).
    public static let maxNotificationEvents = 4
    /// SRST and RUN handshakes: the poll interval and the limit per phase, in microseconds
    /// of link time. **Decision**: at most 300 us per phase, else STATUS_DEVICE_NOT_READY.
    public static let handshakePollMicroseconds: UInt64 = 3
    /// The per-phase limit of a stream handshake (300 us).
    public static let handshakeLimitMicroseconds: UInt64 = 300
    /// How long the bus waits for CRST to read back (10 ms of link time).
    public static let controllerResetLimitMicroseconds: UInt64 = 10_000
    /// Stream tags run 1 to 15 in each direction (0 is reserved).
    public static let tagRange: ClosedRange<UInt8> = 1...15
    /// SDI lines a controller can have (STATESTS bits 14:0).
    public static let maxSDILines = 15

    /// Starts the bus: resets the controller (CRST 0 then 1, polled with stalls), waits
    /// for codecs to wake, reads GCAP, VMAJ/VMIN, OUTPAY, INPAY, OUTSTRMPAY, INSTRMPAY and
    /// STATESTS, builds the engine table from them, sets up the DMA position buffer and the
    /// CORB/RIRB rings, enables the global and controller interrupts and connects its ISR. A controller that does not
    /// leave reset is STATUS_DEVICE_NOT_READY; no DMA memory left is
    /// STATUS_INSUFFICIENT_RESOURCES.
    /// A platform whose page size is not a positive multiple of 128 bytes is
    /// STATUS_UNSUCCESSFUL (BDL entries end at page boundaries and must stay aligned).
    public init(platform: any HDAPlatform) throws(NTStatus) {
        guard let layout = DmaBufferLayout(pageSize: platform.pageSize) else { throw .unsuccessful }
        self.platform = platform
        bufferLayout = layout
        configuration = try HDAudioBus.resetAndProbe(platform)
        let c = configuration
        state = Mutex(BusState(
            engines: (0..<c.layout.count).map { EngineSlot(index: $0, kind: c.layout.kind(of: $0), allocation: nil) },
            sdoUsed: Array(repeating: 0, count: c.gcap.sdoLines),
            sdiUsed: Array(repeating: 0, count: HDAudioBus.maxSDILines),
            codecMask: c.codecMask))
        interruptTargets = Mutex([:])
        deferredWork = Mutex([])
        platform.connectInterrupt(
            { [weak self] in self?.serviceInterrupt() ?? false },
            deferred: { [weak self] in self?.runDeferredSignals() })
        platform.write32(HDARegister.intctl, InterruptBits.global | InterruptBits.controller)
    }

    // MARK: start-up

    static func resetAndProbe(_ p: any HDAPlatform) throws(NTStatus) -> BusConfiguration {
        // Enter reset, then leave it; both polled in link time.
        p.write32(HDARegister.gctl, p.read32(HDARegister.gctl) & ~GlobalControl.crst)
        guard poll(p, limit: controllerResetLimitMicroseconds, every: 10, { p.read32(HDARegister.gctl) & GlobalControl.crst == 0 })
        else { throw .deviceNotReady }
        p.stall(microseconds: 100)
        p.write32(HDARegister.gctl, p.read32(HDARegister.gctl) | GlobalControl.crst)
        guard poll(p, limit: controllerResetLimitMicroseconds, every: 10, { p.read32(HDARegister.gctl) & GlobalControl.crst != 0 })
        else { throw .deviceNotReady }
        // Codecs need 25 frames (521 us) after the link leaves reset.
        p.stall(microseconds: (UInt64(LinkTiming.codecWakeFrames) * 1_000_000 + LinkTiming.framesPerSecond - 1) / LinkTiming.framesPerSecond)
        let statests = p.read16(HDARegister.statests) & 0x7FFF
        p.write16(HDARegister.statests, statests)
        // SDI lines: WAKEEN has one writable bit per line; a controller whose WAKEEN
        // cannot be probed is taken to have all 15.
        p.write16(HDARegister.wakeen, 0x7FFF)
        let wake = p.read16(HDARegister.wakeen) & 0x7FFF
        p.write16(HDARegister.wakeen, 0)
        let sdiLines = wake == 0 ? maxSDILines : (~wake).trailingZeroBitCount
        let gcap = GlobalCapabilities(rawValue: p.read16(HDARegister.gcap))
        let pci = p.pciIdentity
        // The DMA position buffer: one page, 128-byte aligned, enabled by DPLBASE bit 0.
        guard let page = p.allocatePages(count: 1, contiguous: true)?.first else { throw .insufficientResources }
        p.writeMemory(page, bytes: [UInt8](repeating: 0, count: p.pageSize))
        p.write32(HDARegister.dpubase, UInt32(truncatingIfNeeded: page >> 32))
        p.write32(HDARegister.dplbase, UInt32(truncatingIfNeeded: page) | 1)
        // CORB (1 KiB) and RIRB (2 KiB) share one page. A failure from here on undoes the
        // position buffer (DPLBASE off before its page is freed) and the rings: nothing leaks.
        let rings: UInt64
        do throws(NTStatus) {
            guard let page = p.allocatePages(count: 1, contiguous: true)?.first else { throw .insufficientResources }
            rings = page
            p.writeMemory(rings, bytes: [UInt8](repeating: 0, count: p.pageSize))
            do throws(NTStatus) {
                try setUpCommandRings(p, page: rings)
            } catch {
                p.write8(HDARegister.corbctl, 0)
                p.write8(HDARegister.rirbctl, 0)
                p.freePages([rings])
                throw error
            }
        } catch {
            p.write32(HDARegister.dplbase, 0)
            p.write32(HDARegister.dpubase, 0)
            p.freePages([page])
            throw error
        }
        return BusConfiguration(
            gcap: gcap, layout: EngineLayout(gcap),
            versionMajor: p.read8(HDARegister.vmaj), versionMinor: p.read8(HDARegister.vmin),
            outpay: p.read16(HDARegister.outpay), inpay: p.read16(HDARegister.inpay),
            outstrmpay: p.read16(HDARegister.outstrmpay), instrmpay: p.read16(HDARegister.instrmpay),
            codecMask: statests, sdiLines: sdiLines, pci: pci, ssyncOffset: BusConfiguration.ssyncOffset(for: pci),
            positionBuffer: page, commandRings: rings)
    }

    /// Polls `done` every `every` us of stall until it holds or `limit` us have passed
    /// (it is checked once more at the limit).
    static func poll(_ p: any HDAPlatform, limit: UInt64, every: UInt64, _ done: () -> Bool) -> Bool {
        var waited: UInt64 = 0
        while true {
            if done() { return true }
            if waited >= limit { return false }
            p.stall(microseconds: every)
            waited += every
        }
    }

    /// Reads STATESTS again (clearing it) and adds the codecs that appeared since start,
    /// as a bus driver does on a codec's state-change interrupt. Returns the codec mask.
    @discardableResult
    public func rescanCodecs() -> UInt16 {
        state.withLock { s in
            let statests = platform.read16(HDARegister.statests) & 0x7FFF
            platform.write16(HDARegister.statests, statests)
            s.codecMask |= statests & UInt16((1 << configuration.sdiLines) - 1)
            return s.codecMask
        }
    }

    /// The codecs present: one bit per codec address.
    public var codecMask: UInt16 { state.withLock { $0.codecMask } }

    // MARK: clients

    /// Opens an interface for the function driver of the codec at `codecAddress` (0 to 14),
    /// of the DDI version `version` (`.base`, `.v2`, `.bdl`); the result offers exactly that
    /// version's routines. STATUS_INVALID_PARAMETER for an address outside 0 to 14.
    public func openInterface<V: InterfaceVersion>(codecAddress: Int, version: V) throws(NTStatus) -> V.Interface {
        guard (0..<HDAudioBus.maxSDILines).contains(codecAddress) else { throw .invalidParameter }
        let closing = pendingCloses.withLock { Set($0) }
        let id = state.withLock { s in
            // Client ids wrap after 2^32 - 1 opens; an id still open (or closing) is never
            // issued again, so a new client can never inherit another's handles.
            var id = s.nextClient
            while s.openClients[id] != nil || closing.contains(id) { id = id == UInt32.max ? 1 : id + 1 }
            s.nextClient = id == UInt32.max ? 1 : id + 1
            s.openClients[id] = version.kind
            return id
        }
        return version.makeInterface(BusConnection(bus: self, client: id, codecAddress: codecAddress, kind: version.kind))
    }

    /// Closes a client: stops and resets its engines, frees its buffers, engines and events.
    /// The close stalls (stream handshakes), so it runs only at PASSIVE_LEVEL without the
    /// bus lock. Requested above PASSIVE_LEVEL (from a BDL ISR at DIRQL, or a callback or
    /// event at DISPATCH_LEVEL) or with the bus lock held by this thread (a connection
    /// released inside a bus routine), it is deferred: `runPendingCloses` carries it out in
    /// the next bus routine that runs at PASSIVE_LEVEL and takes the bus lock, before it
    /// takes the lock (so the closed client's own later calls fail) and again when it
    /// releases it. Until then the client's engines keep their state.
    func closeClient(_ client: UInt32) {
        if BusLockContext.held || platform.currentIRQL > .passive {
            pendingCloses.withLock { $0.append(client) }
            return
        }
        _ = try? locked { (s: inout BusState) throws(NTStatus) in
            guard s.openClients.removeValue(forKey: client) != nil else { return }
            dropCallbacks(client: client)
            let owned = s.engines.indices.filter { s.engines[$0].allocation?.client == client }
            let running = owned.filter { s.engines[$0].allocation?.state == .run }
            _ = stopTogether(running)
            for i in owned {
                if s.engines[i].allocation?.state != .reset { _ = streamReset(i) }
                releaseBuffer(i, &s)
                release(i, &s)
            }
        }
    }

    /// True while a client is open and no close of it is pending.
    func isOpen(_ client: UInt32) -> Bool {
        state.withLock { $0.openClients[client] != nil } && !pendingCloses.withLock { $0.contains(client) }
    }

    // MARK: the lock and deferred work

    /// Runs `body` under the bus lock, then runs what was deferred meanwhile: closes of
    /// connections whose last reference went away under the lock (a client's callback or
    /// event released by the bus), and DISPATCH-level signals queued by the ISR.
    func locked<R: Sendable>(_ body: (inout BusState) throws(NTStatus) -> R) throws(NTStatus) -> R {
        runPendingCloses()   // closes requested above PASSIVE_LEVEL take effect first
        var result: Result<R, NTStatus>? = nil
        BusLockContext.$held.withValue(true) {
            result = state.withLock { (s: inout BusState) -> Result<R, NTStatus> in
                // A close requested at DISPATCH or DIRQL invalidates the client's handles at
                // once, even though its engines are freed only at the next PASSIVE routine.
                s.closingClients = pendingCloses.withLock { Set($0) }
                return Result { () throws(NTStatus) -> R in try body(&s) }
            }
        }
        runPendingCloses()
        runDeferredSignals()
        return try result!.get()
    }

    /// Closes connections whose close was deferred (bus lock held, or above PASSIVE_LEVEL);
    /// does nothing while either still holds.
    func runPendingCloses() {
        guard !BusLockContext.held, platform.currentIRQL == .passive else { return }
        while let client = pendingCloses.withLock({ $0.popLast() }) { closeClient(client) }
    }

    /// The IRQL rule: STATUS_UNSUCCESSFUL above `level`.
    func require(_ level: IRQL) throws(NTStatus) {
        if platform.currentIRQL > level { throw .unsuccessful }
    }

    /// Runs queued DISPATCH-level work (notification signals, codec-verb completions,
    /// unsolicited-response callbacks) in queue order, unless the bus lock is held (by this
    /// thread, inside a stall, or by another): its holder runs the queue on release.
    func runDeferredSignals() {
        while true {
            let batch: [@Sendable () -> Void]? = state.withLockIfAvailable { _ in
                deferredWork.withLock { q in
                    let b = q
                    q.removeAll()
                    return b
                }
            }
            guard let batch, !batch.isEmpty else { return }
            platform.withIRQL(.dispatch) {
                for work in batch { work() }
            }
        }
    }

    /// Queues DISPATCH-level work (a DPC) to run once the bus lock is free.
    func queueDeferred(_ work: @escaping @Sendable () -> Void) {
        deferredWork.withLock { $0.append(work) }
    }

    // MARK: the ISR

    /// The interrupt service routine (DIRQL): reads INTSTS and each flagged SDnSTS,
    /// clears them, calls BDL clients' ISRs with bits 2-4 only (for errors and IOC), and
    /// queues one signal of every registered event per IOC of a V2 buffer.
    func serviceInterrupt() -> Bool {
        let intsts = platform.read32(HDARegister.intsts)
        let streams = intsts & InterruptBits.streamMask
        guard streams != 0 || intsts & InterruptBits.controller != 0 else { return false }
        if intsts & InterruptBits.controller != 0 {
            serviceCommandInterrupt()
        } else if commands.withLock({ !$0.inFlight.isEmpty }) {
            // Any interrupt is a chance to time out verbs a codec ignored.
            commands.withLock { drainResponses(&$0) }
        }
        for i in 0..<configuration.layout.count where streams & (1 << UInt32(i)) != 0 {
            let sts = HDARegister.streamDescriptor(i) + HDARegister.SD.sts
            let causes = platform.read8(sts) & StreamStatus.interruptCauses.rawValue
            platform.write8(sts, causes)
            switch interruptTargets.withLock({ $0[i] }) {
            case .bdl(let isr, let context)?:
                isr(UInt32(causes), context)
            case .notify(let events)?:
                if causes & StreamStatus.bufferCompletion.rawValue != 0, !events.isEmpty {
                    queueDeferred { for e in events { e.signal() } }
                }
            case nil:
                break
            }
        }
        return true
    }

    /// Recomputes where engine `index`'s interrupts go. Called under the bus lock.
    func refreshInterruptTarget(_ index: Int, _ a: EngineAllocation?) {
        var target: InterruptTarget? = nil
        switch a?.buffer {
        case .dma(let r)? where r.notifications > 0: target = .notify(a!.events)
        case .contiguous(let r)?: if let setup = r.setup { target = .bdl(setup.isr, setup.context) }
        default: break
        }
        interruptTargets.withLock { $0[index] = target }
    }

    // MARK: registers of one stream descriptor

    func sd(_ index: Int, _ reg: UInt32) -> UInt32 { HDARegister.streamDescriptor(index) + reg }

    /// The SRST handshake: RUN = 0, SRST = 1 until it reads 1, SRST = 0 until it reads 0,
    /// each phase polled every 3 us for at most 300 us of link time (the Decision). On
    /// timeout the engine is left with RUN = 0 and interrupts off: STATUS_DEVICE_NOT_READY.
    func streamReset(_ index: Int) -> Bool {
        let ctl = sd(index, HDARegister.SD.ctl)
        let quiet = platform.read8(ctl) & ~UInt8(StreamControl.run | StreamControl.ioce | StreamControl.feie | StreamControl.deie)
        platform.write8(ctl, quiet)
        platform.write8(ctl, quiet | UInt8(StreamControl.srst))
        let entered = HDAudioBus.poll(platform, limit: HDAudioBus.handshakeLimitMicroseconds, every: HDAudioBus.handshakePollMicroseconds) {
            platform.read8(ctl) & UInt8(StreamControl.srst) != 0
        }
        platform.write8(ctl, platform.read8(ctl) & ~UInt8(StreamControl.srst | StreamControl.run))
        guard entered else { return false }
        return HDAudioBus.poll(platform, limit: HDAudioBus.handshakeLimitMicroseconds, every: HDAudioBus.handshakePollMicroseconds) {
            platform.read8(ctl) & UInt8(StreamControl.srst) == 0
        }
    }

    /// Writes SDnCTL bits 23:16: the tag, the stripe setting and, on bidirectional
    /// engines, DIR (1 = output).
    func programControl(_ index: Int, _ a: EngineAllocation) {
        var c = StreamControl(rawValue: 0)
        c.streamTag = a.tag
        c.stripe = StripeControl(lines: a.stripeLines) ?? .oneLine
        c.directionOutput = configuration.layout.kind(of: index) == .bidirectional && a.direction == .render
        platform.write8(sd(index, HDARegister.SD.ctl) + 2, UInt8(truncatingIfNeeded: c.rawValue >> 16))
    }

    /// Programs a held buffer into a freshly reset engine: CTL (tag, stripe, DIR), CBL,
    /// LVI, FMT, the BDL address, the interrupt enables and SIE. Returns SDnFIFOS + 1.
    @discardableResult
    func programBuffer(_ index: Int, _ a: EngineAllocation) -> UInt32 {
        programControl(index, a)
        var cbl: UInt32 = 0, lvi: UInt16 = 0, bdl: UInt64 = 0, enables: UInt32 = 0
        switch a.buffer {
        case .dma(let r)?:
            cbl = UInt32(r.mdl.byteCount); lvi = UInt16(r.entryCount - 1); bdl = r.bdlPage
            enables = r.notifications > 0 ? StreamControl.ioce : 0
        case .contiguous(let r)?:
            guard let setup = r.setup else { break }
            cbl = setup.bufferLength; lvi = setup.lvi; bdl = r.bdlPage
            enables = StreamControl.ioce | StreamControl.feie | StreamControl.deie
        case nil:
            break
        }
        platform.write32(sd(index, HDARegister.SD.cbl), cbl)
        platform.write16(sd(index, HDARegister.SD.lvi), lvi)
        platform.write16(sd(index, HDARegister.SD.fmt), a.converterFormat.rawValue)
        platform.write32(sd(index, HDARegister.SD.bdpl), UInt32(truncatingIfNeeded: bdl))
        platform.write32(sd(index, HDARegister.SD.bdpu), UInt32(truncatingIfNeeded: bdl >> 32))
        let ctl = sd(index, HDARegister.SD.ctl)
        platform.write8(ctl, platform.read8(ctl) & ~UInt8(StreamControl.ioce | StreamControl.feie | StreamControl.deie) | UInt8(enables))
        setStreamInterrupt(index, enabled: enables != 0)
        return fifoSize(index)
    }

    /// SDnFIFOS + 1, read from the register.
    func fifoSize(_ index: Int) -> UInt32 { UInt32(platform.read16(sd(index, HDARegister.SD.fifos))) + 1 }

    /// Sets or clears engine `index`'s SIE bit in INTCTL (under the bus lock).
    func setStreamInterrupt(_ index: Int, enabled: Bool) {
        let bit = UInt32(1) << UInt32(index)
        let v = platform.read32(HDARegister.intctl)
        platform.write32(HDARegister.intctl, enabled ? v | bit : v & ~bit)
    }

    /// Leaves an engine safe after a failed handshake: RUN = 0, interrupts off, no BDL.
    func makeSafe(_ index: Int) {
        let ctl = sd(index, HDARegister.SD.ctl)
        platform.write8(ctl, platform.read8(ctl) & ~UInt8(StreamControl.run | StreamControl.ioce | StreamControl.feie | StreamControl.deie))
        platform.write32(sd(index, HDARegister.SD.bdpl), 0)
        platform.write32(sd(index, HDARegister.SD.bdpu), 0)
        setStreamInterrupt(index, enabled: false)
    }

    /// Synchronised start (SSYNC): hold the engines, set RUN, wait for every FIFORDY,
    /// then release all of them in one SSYNC write so that they start on the same frame.
    /// An engine that raises DESE instead (its BDL was bad when RUN fetched it: a guest
    /// mistake of a BDL-interface client) counts as started: the hardware reports the
    /// error through the ISR, as it would on a real controller.
    func startTogether(_ indices: [Int]) -> Bool {
        guard !indices.isEmpty else { return true }
        return withEnginesHeld(indices) {
            setRun(indices, true)
            let ready = HDAudioBus.poll(platform, limit: HDAudioBus.handshakeLimitMicroseconds, every: HDAudioBus.handshakePollMicroseconds) {
                indices.allSatisfy {
                    platform.read8(sd($0, HDARegister.SD.sts)) & (StreamStatus.fifoReady.rawValue | StreamStatus.descriptorError.rawValue) != 0
                }
            }
            if !ready { setRun(indices, false) }
            return ready
        }
    }

    /// Synchronised stop: hold the engines with SSYNC, clear RUN, read RUN back as 0,
    /// then release SSYNC.
    func stopTogether(_ indices: [Int]) -> Bool {
        guard !indices.isEmpty else { return true }
        return withEnginesHeld(indices) {
            setRun(indices, false)
            return HDAudioBus.poll(platform, limit: HDAudioBus.handshakeLimitMicroseconds, every: HDAudioBus.handshakePollMicroseconds) {
                indices.allSatisfy { platform.read8(sd($0, HDARegister.SD.ctl)) & UInt8(StreamControl.run) == 0 }
            }
        }
    }

    /// Sets the engines' SSYNC bits, runs `body`, then clears them all in one write, so
    /// whatever `body` did to RUN takes effect for every engine on the same frame.
    private func withEnginesHeld(_ indices: [Int], _ body: () -> Bool) -> Bool {
        let ssync = configuration.ssyncOffset
        let mask = indices.reduce(UInt32(0)) { $0 | 1 << UInt32($1) }
        platform.write32(ssync, platform.read32(ssync) | mask)
        defer { platform.write32(ssync, platform.read32(ssync) & ~mask) }
        return body()
    }

    /// Sets or clears RUN (a byte write to SDnCTL) on each engine.
    private func setRun(_ indices: [Int], _ on: Bool) {
        for i in indices {
            let ctl = sd(i, HDARegister.SD.ctl)
            let value = platform.read8(ctl)
            platform.write8(ctl, on ? value | UInt8(StreamControl.run) : value & ~UInt8(StreamControl.run))
        }
    }

    // MARK: resource bookkeeping (under the bus lock)

    /// Frees an engine's buffer pages and forgets the buffer; the engine must be stopped.
    func releaseBuffer(_ index: Int, _ s: inout BusState) {
        guard var a = s.engines[index].allocation, let buffer = a.buffer else { return }
        makeSafe(index)
        platform.freePages(buffer.allPages)
        a.buffer = nil
        s.engines[index].allocation = a
        refreshInterruptTarget(index, a)
    }

    /// Returns an engine's tag and bandwidth and frees its slot.
    func release(_ index: Int, _ s: inout BusState) {
        guard let a = s.engines[index].allocation else { return }
        s.tagsInUse[a.direction, default: 0] &= ~(1 << UInt16(a.tag))
        for line in 0..<a.charge.sdoLines { s.sdoUsed[line] -= a.charge.sdoBitsPerLine }
        if a.charge.sdiBits > 0 { s.sdiUsed[a.charge.sdiLine] -= a.charge.sdiBits }
        s.engines[index].allocation = nil
        refreshInterruptTarget(index, nil)
        platform.write8(sd(index, HDARegister.SD.ctl) + 2, 0)
    }

    /// The charge of a format on this controller, or the status that refuses it:
    /// BUFFER_TOO_SMALL when the FIFO cannot hold one frame of it (OUTSTRMPAY /
    /// INSTRMPAY), INSUFFICIENT_RESOURCES when a line's budget would be exceeded.
    /// `s` must already have the engine's own old charge removed.
    func charge(for format: StreamFormat, direction: StreamDirection, stripeLines: Int, sdiLine: Int,
                in s: BusState) throws(NTStatus) -> LinkCharge {
        let fifoLimit = Int(direction == .render ? configuration.outstrmpay : configuration.instrmpay)
        guard try LinkBudget.fifoWords(format) <= fifoLimit else { throw .bufferTooSmall }
        var c = LinkCharge()
        switch direction {
        case .render:
            c.sdoLines = stripeLines
            c.sdoBitsPerLine = try LinkBudget.outputChargePerLine(format, stripeLines: stripeLines)
            let budget = LinkBudget.sdoLineBudget(outpay: configuration.outpay)
            for line in 0..<stripeLines where s.sdoUsed[line] + c.sdoBitsPerLine > budget { throw .insufficientResources }
        case .capture:
            c.sdiLine = sdiLine
            c.sdiBits = try LinkBudget.inputCost(format)
            guard s.sdiUsed[sdiLine] + c.sdiBits <= LinkBudget.sdiLineBudget(inpay: configuration.inpay)
            else { throw .insufficientResources }
        }
        return c
    }

    func apply(_ c: LinkCharge, sign: Int, _ s: inout BusState) {
        for line in 0..<c.sdoLines { s.sdoUsed[line] += sign * c.sdoBitsPerLine }
        if c.sdiBits > 0 { s.sdiUsed[c.sdiLine] += sign * c.sdiBits }
    }

    // MARK: inspection

    /// A snapshot of engines, tags and link budgets.
    public func resources() -> BusResources {
        state.withLock { s in
            let sdoBudget = LinkBudget.sdoLineBudget(outpay: configuration.outpay)
            let sdiBudget = LinkBudget.sdiLineBudget(inpay: configuration.inpay)
            var tags: [StreamDirection: Set<UInt8>] = [.render: [], .capture: []]
            for d in StreamDirection.allCases {
                for t in HDAudioBus.tagRange where s.tagsInUse[d, default: 0] & (1 << UInt16(t)) != 0 { tags[d]!.insert(t) }
            }
            let engines = s.engines.compactMap { slot -> EngineSummary? in
                guard let a = slot.allocation else { return nil }
                return EngineSummary(index: slot.index, kind: slot.kind, direction: a.direction, tag: a.tag,
                                     format: a.format, stripeLines: a.charge.sdoLines,
                                     bitsPerLine: a.direction == .render ? a.charge.sdoBitsPerLine : a.charge.sdiBits,
                                     sdiLine: a.direction == .capture ? a.charge.sdiLine : nil,
                                     state: a.state, hasBuffer: a.buffer != nil)
            }
            return BusResources(sdo: s.sdoUsed.map { BudgetUse(used: $0, budget: sdoBudget) },
                                sdi: s.sdiUsed.map { BudgetUse(used: $0, budget: sdiBudget) },
                                tags: tags, engines: engines)
        }
    }

    /// Checks the bookkeeping: line use equals the sum of the engines' charges, tags are
    /// unique per direction and match the engines, no budget is exceeded, every pending
    /// interrupt target belongs to an engine. Returns the problems found (empty when sound).
    public func checkInvariants() -> [String] {
        state.withLock { s in
            var problems: [String] = []
            var sdo = Array(repeating: 0, count: s.sdoUsed.count)
            var sdi = Array(repeating: 0, count: s.sdiUsed.count)
            var tags: [StreamDirection: UInt16] = [.render: 0, .capture: 0]
            for slot in s.engines {
                guard let a = slot.allocation else { continue }
                if !s.openClients.keys.contains(a.client) { problems.append("engine \(slot.index) held by closed client \(a.client)") }
                for line in 0..<a.charge.sdoLines { sdo[line] += a.charge.sdoBitsPerLine }
                if a.charge.sdiBits > 0 { sdi[a.charge.sdiLine] += a.charge.sdiBits }
                let bit = UInt16(1) << UInt16(a.tag)
                if !HDAudioBus.tagRange.contains(a.tag) { problems.append("engine \(slot.index) has tag \(a.tag)") }
                if tags[a.direction]! & bit != 0 { problems.append("tag \(a.tag) twice for \(a.direction)") }
                tags[a.direction]! |= bit
                if slot.kind == .input && a.direction == .render || slot.kind == .output && a.direction == .capture {
                    problems.append("engine \(slot.index) of kind \(slot.kind) used for \(a.direction)")
                }
            }
            if sdo != s.sdoUsed { problems.append("SDO use \(s.sdoUsed) but engines hold \(sdo)") }
            if sdi != s.sdiUsed { problems.append("SDI use \(s.sdiUsed) but engines hold \(sdi)") }
            if tags != s.tagsInUse { problems.append("tags in use \(s.tagsInUse) but engines hold \(tags)") }
            let sdoBudget = LinkBudget.sdoLineBudget(outpay: configuration.outpay)
            let sdiBudget = LinkBudget.sdiLineBudget(inpay: configuration.inpay)
            if s.sdoUsed.contains(where: { $0 > sdoBudget || $0 < 0 }) { problems.append("SDO over budget: \(s.sdoUsed)") }
            if s.sdiUsed.contains(where: { $0 > sdiBudget || $0 < 0 }) { problems.append("SDI over budget: \(s.sdiUsed)") }
            let targets = interruptTargets.withLock { $0 }
            for (i, _) in targets where s.engines[i].allocation == nil { problems.append("interrupt target for free engine \(i)") }
            return problems
        }
    }
}

/// Whether the current thread (task) holds the bus lock.
enum BusLockContext {
    @TaskLocal static var held = false
}

/// What the bus read from the controller at start (and the PCI quirk it applied).
public struct BusConfiguration: Hashable, Sendable {
    /// GCAP.
    public var gcap: GlobalCapabilities
    /// Stream descriptor layout from GCAP.
    public var layout: EngineLayout
    /// VMAJ.
    public var versionMajor: UInt8
    /// VMIN.
    public var versionMinor: UInt8
    /// OUTPAY, words per frame per SDO line.
    public var outpay: UInt16
    /// INPAY, words per frame per SDI line.
    public var inpay: UInt16
    /// OUTSTRMPAY, words per frame per output stream.
    public var outstrmpay: UInt16
    /// INSTRMPAY, words per frame per input stream.
    public var instrmpay: UInt16
    /// STATESTS at start: one bit per codec present.
    public var codecMask: UInt16
    /// SDI lines (codec addresses 0 ..< sdiLines), probed through WAKEEN.
    public var sdiLines: Int
    /// PCI identity.
    public var pci: PCIIdentity
    /// Where SSYNC is on this controller.
    public var ssyncOffset: UInt32
    /// The DMA position buffer's page.
    public var positionBuffer: UInt64
    /// The page holding CORB (offset 0) and RIRB (offset 2048).
    public var commandRings: UInt64

    /// Intel controllers whose datasheets put SSYNC at 0x34 (ICH6, ICH7, ICH8, ICH9).
    public static let ssyncAt0x34: Set<UInt16> = [0x2668, 0x27D8, 0x284B, 0x293E, 0x293F]

    /// SSYNC's offset for a PCI identity: 0x34 on the Intel ICH6-ICH9 family, else 0x38
    /// (the specification's offset). A chipset quirk, as real bus drivers keep them.
    public static func ssyncOffset(for pci: PCIIdentity) -> UInt32 {
        pci.vendorId == 0x8086 && ssyncAt0x34.contains(pci.deviceId) ? HDARegister.ssyncICH : HDARegister.ssyncSpec
    }

    /// Whether a codec answered at `address` at start.
    public func codecPresent(at address: Int) -> Bool {
        (0..<sdiLines).contains(address) && codecMask & (1 << UInt16(address)) != 0
    }
}
