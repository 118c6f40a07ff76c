import HDAudio

/// INTSTS and the interrupt line.
extension HDAController {

    /// Recomputes INTSTS and the interrupt line. SIS n = BCIS & IOCE | FIFOE & FEIE |
    /// DESE & DEIE; CIS as `controllerInterruptStatus` says. GIS is the OR of every SIS bit
    /// and CIS, independent of SIE and CIE (Intel's INTSTS.GIS); the enables gate only the
    /// line: GIE and (an SIS enabled by its SIE, or CIS with CIE).
    /// Also counts newly raised causes (`interruptCausesRaised`), so that
    /// `advance(frames:stopAtInterrupt:)` can stop at every one of them.
    func updateInterrupts() {
        updateInterrupts(engines: engines.count >= 64 ? ~0 : (1 << UInt64(engines.count)) - 1)
    }

    /// `updateInterrupts()` after a write that can change only engine `n`'s SDnSTS or SDnCTL
    /// (the other engines keep their causes: a register write need not look at all of them).
    @inline(__always) func updateInterrupts(engine n: Int) {
        updateInterrupts(engines: n < 64 ? UInt64(1) << UInt64(n) : 0)
    }

    /// `updateInterrupts()` when only the engines in `changed` (one bit per engine) may have
    /// had SDnSTS or SDnCTL change since the last update: the others keep their causes.
    /// A batch passes the engines that had an event in it.
    func updateInterrupts(engines changed: UInt64) {
        let last = enabledCauses
        var completion = last.completion & ~changed, fifo = last.fifo & ~changed, descriptor = last.descriptor & ~changed
        let b = UInt32(StreamStatus.bufferCompletion.rawValue), f = UInt32(StreamStatus.fifoError.rawValue)
        let d = UInt32(StreamStatus.descriptorError.rawValue)
        let count = engines.count
        values.withUnsafeBufferPointer { v in
            for n in changed.setBits where n < count {
                // IOCE, FEIE, DEIE (SDnCTL bits 2-4) enable BCIS, FIFOE, DESE (SDnSTS bits 2-4).
                let causes = v[table.sd(n, .sts)] & v[table.sd(n, .ctl)]
                let bit = UInt64(1) &<< UInt64(n)
                if causes & b != 0 { completion |= bit }
                if causes & f != 0 { fifo |= bit }
                if causes & d != 0 { descriptor |= bit }
            }
        }
        // SIS n: any enabled cause of engine n (INTSTS bits 29:0).
        let sis = UInt32(truncatingIfNeeded: completion | fifo | descriptor)
        let cis = controllerInterruptStatus()
        if completion & ~last.completion != 0 || fifo & ~last.fifo != 0 || descriptor & ~last.descriptor != 0
            || (cis && !lastCIS) {
            interruptCausesRaised &+= 1
        }
        enabledCauses = (completion, fifo, descriptor)
        lastCIS = cis
        let intctl = values[table.intctl]
        let gis = sis != 0 || cis
        values[table.intsts] = sis | (cis ? InterruptBits.controller : 0) | (gis ? InterruptBits.global : 0)
        let enabled = (sis & intctl & InterruptBits.streamMask) != 0 || (cis && intctl & InterruptBits.controller != 0)
        let line = enabled && intctl & InterruptBits.global != 0
        if line != interruptAsserted {
            interruptAsserted = line
            interruptLineChanged?(line)
        }
    }
}
