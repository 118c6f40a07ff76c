import HDAudio

/// GCTL.CRST: entering and leaving controller reset, and waking the codecs.
extension HDAController {

    /// GCTL.CRST: writing 0 enters reset (every register back to its reset value, engines
    /// stopped, codecs reset, WALCLK cleared); writing 1 reads back 1 after the profile's
    /// `crstExitFrames` of link time, and the attached codecs appear in STATESTS
    /// `LinkTiming.codecWakeFrames` (25) frames later. Fault: CRST never completes.
    /// FCNTRL = 1 out of reset flushes the stream FIFOs: the flush completes at once, so
    /// FCNTRL reads back 0 and GSTS.FSTS (write 1 to clear) is set.
    func writeGCTL(old: UInt32, lanes: UInt32) {
        let crstWritten = lanes & GlobalControl.crst != 0
        let wantOut = values[table.gctl] & GlobalControl.crst != 0
        if inReset {
            values[table.gctl] = resetValues[table.gctl]
            guard crstWritten else { return }
            if wantOut {
                guard !crstRequested else { return }
                crstRequested = true
                if faults.crstNeverCompletes { return }
                if profile.crstExitFrames == 0 {
                    leaveReset()
                } else {
                    crstExitAt = frame.addingSaturated(profile.crstExitFrames)
                }
            } else {
                crstRequested = false
                crstExitAt = nil
            }
            return
        }
        if crstWritten && !wantOut {
            enterReset()
            return
        }
        if values[table.gctl] & GlobalControl.fcntrl != 0 {   // FCNTRL written 1: the flush completes at once
            values[table.gctl] &= ~GlobalControl.fcntrl
            values[table.gsts] |= GlobalStatus.fsts
        }
    }

    /// The one reset loop: every register to its reset value, every engine stopped.
    func enterReset() {
        for i in values.indices { values[i] = resetValues[i] }
        for e in engines { e.resetState() }
        inReset = true
        crstRequested = false
        crstExitAt = nil
        codecWakeAt = nil
        codecsAwake = false
        corb = CommandRings()
        for codec in codecs { codec?.linkReset() }
        updateInterrupts()
    }

    func leaveReset() {
        inReset = false
        crstExitAt = nil
        crstRequested = false
        values[table.gctl] |= GlobalControl.crst
        codecWakeAt = frame.addingSaturated(UInt64(LinkTiming.codecWakeFrames))
    }

    func wakeCodecs() {
        codecWakeAt = nil
        codecsAwake = true
        for (address, codec) in codecs.enumerated() where codec != nil {
            values[table.statests] |= 1 << UInt32(address)
        }
    }
}
