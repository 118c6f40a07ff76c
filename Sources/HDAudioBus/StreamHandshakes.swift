import HDAudio
import Synchronization

/// Registers of one stream descriptor: the SRST handshake, control and buffer programming, RUN and SSYNC.
extension HDAudioBus {

    func sd(_ index: Int, _ reg: UInt32) -> UInt32 { HDARegister.streamDescriptor(index) + reg }

    /// The SRST handshake: RUN = 0, SRST = 1 until it reads 1, SRST = 0 until it reads 0,
    /// each phase polled every 3 us for at most 300 us of link time (the Decision). On
    /// timeout the engine is left with RUN = 0 and interrupts off: STATUS_DEVICE_NOT_READY.
    func streamReset(_ index: Int) -> Bool {
        let ctl = sd(index, HDARegister.SD.ctl)
        let byte = platform.read8(ctl)
        let quiet = byte & ~UInt8(StreamControl.run | StreamControl.ioce | StreamControl.feie | StreamControl.deie)
        // RUN must read 0 before SRST is set: a running engine is stopped (and its interrupts
        // turned off) first; one already stopped takes SRST in the same write that turns them off.
        if byte & UInt8(StreamControl.run) != 0 { platform.write8(ctl, quiet) }
        platform.write8(ctl, quiet | UInt8(StreamControl.srst))
        let entered = platform.poll8(ctl, every: HDAudioBus.handshakePollMicroseconds, limit: HDAudioBus.handshakeLimitMicroseconds) {
            $0 & UInt8(StreamControl.srst) != 0
        }
        // Once SRST reads 1 the descriptor holds its reset values (RUN and the enables 0), so
        // the byte written is the one written before, less SRST: no read needed. A timeout
        // clears SRST and RUN from the same byte.
        platform.write8(ctl, quiet & ~UInt8(StreamControl.srst | StreamControl.run))
        guard entered else { return false }
        return platform.poll8(ctl, every: HDAudioBus.handshakePollMicroseconds, limit: HDAudioBus.handshakeLimitMicroseconds) {
            $0 & UInt8(StreamControl.srst) == 0
        }
    }

    /// Writes SDnCTL bits 23:16: the tag, the stripe setting and, on bidirectional
    /// engines, DIR (1 = output).
    func programControl(_ index: Int, _ a: EngineAllocation) {
        var c = StreamControl(rawValue: 0)
        c.streamTag = a.tag
        c.stripe = StripeControl(lines: a.stripeLines) ?? .oneLine
        c.directionOutput = configuration.layout.kind(of: index) == .bidirectional && a.direction == .render
        writeStreamByte(index, c)
    }

    /// Writes SDnCTL's stream byte (bits 23:16: STRM, DIR, TP, STRIPE) of `control` on its
    /// own, so that RUN and SRST in bits 7:0 are not touched.
    func writeStreamByte(_ index: Int, _ control: StreamControl) {
        let byte = StreamControl.streamByte
        platform.write8(sd(index, HDARegister.SD.ctl) + UInt32(byte.bits.lowerBound / 8),
                        UInt8(truncatingIfNeeded: byte.extract(control.rawValue)))
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
            guard let setup = r.setup, let checked = r.checkedBdlPage else { break }
            cbl = setup.bufferLength; lvi = setup.lvi; bdl = checked
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

    /// Sets or clears engine `index`'s SIE bit in INTCTL (under the bus lock), from the
    /// bus's copy of the register: a write only, and none when the bit already reads so.
    func setStreamInterrupt(_ index: Int, enabled: Bool) {
        let bit = UInt32(1) << UInt32(index)
        let v = interruptControl.load(ordering: .relaxed)
        let new = enabled ? v | bit : v & ~bit
        guard new != v else { return }
        interruptControl.store(new, ordering: .relaxed)
        platform.write32(HDARegister.intctl, new)
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
}
