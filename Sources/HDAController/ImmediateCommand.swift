import HDAudio

/// The Immediate Command interface's state: a verb waiting for its command slot, then for
/// its response.
struct ImmediateCommandState {
    /// The verb written to ICOI when ICB went to 1, waiting for the next frame's command slot.
    var pendingVerb: UInt32?
    /// The codec's answer, arriving at the end of frame `due`.
    var inFlight: (address: Int, response: UInt32, due: UInt64)?
    /// A verb was sent that no codec answers: ICB stays 1 (the driver times out).
    var unanswered = false

    /// True while the command path must move one frame at a time for it.
    var busy: Bool { pendingVerb != nil || inFlight != nil }
}

/// The Immediate Command interface: ICOI, IRII and ICS.
///
/// Timing follows the CORB's (Azalia's model of the link, `CommandRings`): a verb started by
/// writing ICB = 1 leaves on the SDO command field of the next frame, the codec answers on
/// its SDI line in the frame after, and the response is in IRII with IRV = 1 and ICB = 0 at
/// the end of that frame. A verb no codec answers leaves ICB at 1 (the specification leaves
/// the timeout to software). Writing ICB = 1 while ICB already reads 1 is ignored. The
/// specification says software must not use the immediate interface while the CORB runs;
/// Azalia then sends both, the immediate verb first.
extension HDAController {

    /// ICS written: a 0-to-1 ICB starts the verb in ICOI; ICB cannot be cleared by software.
    func writeImmediateCommandStatus(old: UInt32, value: UInt32, lanes: UInt32) {
        let busy = UInt32(ImmediateCommandStatus.busy)
        if old & busy != 0 {
            values[table.ics] |= busy           // still busy: the write cannot clear ICB
        } else if values[table.ics] & busy != 0 {
            corb.immediate.pendingVerb = values[table.icoi]
            corb.immediate.unanswered = false
        }
    }

    /// One frame of the immediate interface (called from `runCommandRings`, one frame at a time).
    func runImmediateCommand(from start: UInt64, to end: UInt64) {
        if let flight = corb.immediate.inFlight, flight.due <= start {
            corb.immediate.inFlight = nil
            values[table.irii] = flight.response
            let address = UInt32(flight.address) << UInt32(ImmediateCommandStatus.responseAddressShift)
            values[table.ics] = values[table.ics] & ~UInt32(ImmediateCommandStatus.busy | 0xF0)
                | UInt32(ImmediateCommandStatus.resultValid) | address
        }
        if let verb = corb.immediate.pendingVerb {
            corb.immediate.pendingVerb = nil
            let address = Int(verb >> 28)
            if codecsAwake, codecs.indices.contains(address), let codec = codecs[address],
               let response = codec.linkCommand(verb) {
                corb.immediate.inFlight = (address, response, end)
            } else {
                corb.immediate.unanswered = true
            }
        }
    }
}
