import HDAudio

/// The CORB/RIRB command path's internal state.
struct CommandRings {
}

extension HDAController {
    /// CIS: a RIRB response interrupt, RIRB overrun or CORB memory error is pending and enabled.
    func controllerInterruptStatus() -> Bool { false }

    /// The next frame at which the command path has work, if any.
    func nextCommandFrame() -> UInt64? { nil }

    /// Runs the command path over frames [start, end).
    func runCommandRings(from start: UInt64, to end: UInt64) {}

    /// Side effects of a CORB/RIRB register write.
    func writeCommandRing(_ role: RegisterRole, register: Int, old: UInt32, value: UInt32, lanes: UInt32) {}
}
