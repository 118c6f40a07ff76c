import HDAudio

extension HDAController {
    /// The frame of the controller's next event (a BDL entry boundary and its IOC, a wrap, a
    /// pending CRST, SRST or codec-wake latency, a verb on the command path), or nil when
    /// nothing is scheduled. A pacer that drives link time from a wall clock sleeps until
    /// this frame's wall time, so that an interrupt is raised when the hardware would raise it.
    public var nextEventFrame: UInt64? {
        var next: UInt64?
        func consider(_ t: UInt64?) { if let t { next = min(next ?? t, t) } }
        consider(crstExitAt)
        consider(codecWakeAt)
        if schedule.earliest != .max { consider(schedule.earliest) }
        consider(nextCommandFrame())
        return next
    }
}

extension HDAController {
    /// True when the byte at `offset` changes only through a register write or at
    /// `nextEventFrame`: one of SDnCTL's three bytes, whose SRST latches and clears at its
    /// latency, whose RUN a descriptor error clears at a BDL fetch and which CRST's exit
    /// resets, all of them events. Counters that move with every frame (LPIB, WALCLK) and
    /// the other registers answer false. A poll of such a byte may skip the reads before
    /// that frame: every one of them would return the value just read.
    public func changesOnlyAtEvents(byte offset: UInt32) -> Bool {
        guard offset >= HDARegister.streamDescriptorBase else { return false }
        let relative = offset - HDARegister.streamDescriptorBase
        return Int(relative / HDARegister.streamDescriptorStride) < engines.count
            && relative % HDARegister.streamDescriptorStride < 3
    }
}
