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
