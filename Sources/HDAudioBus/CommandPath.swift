import HDAudio
import Synchronization

/// HDAUDIO_CODEC_RESPONSE: a codec's 32-bit response and how it arrived.
public struct CodecResponse: Hashable, Sendable, CustomStringConvertible {
    /// The 32-bit response.
    public var response: UInt32
    /// IsValid: a response arrived (false when the codec did not answer in time).
    public var isValid: Bool
    /// HasFifoOverrun: the RIRB overflowed before this response, so responses were lost.
    public var hasFifoOverrun: Bool
    /// IsUnsolicited: an unsolicited response (tag in bits 31:26).
    public var isUnsolicited: Bool
    /// SDataIn: the codec address (SDI line) it came from.
    public var sdataIn: UInt8

    /// A response.
    public init(response: UInt32, isValid: Bool, hasFifoOverrun: Bool = false, isUnsolicited: Bool = false, sdataIn: UInt8) {
        self.response = response
        self.isValid = isValid
        self.hasFifoOverrun = hasFifoOverrun
        self.isUnsolicited = isUnsolicited
        self.sdataIn = sdataIn
    }

    /// No response (IsValid = 0).
    public static func none(from address: UInt8) -> CodecResponse {
        CodecResponse(response: 0, isValid: false, sdataIn: address)
    }

    /// The tag of an unsolicited response (bits 31:26).
    public var tag: UInt8 { UInt8(response >> 26) }

    /// `0x00000000 from 0 (valid)`.
    public var description: String {
        let flags = [isValid ? "valid" : "no response", isUnsolicited ? "unsolicited" : nil, hasFifoOverrun ? "overrun" : nil]
            .compactMap { $0 }.joined(separator: ", ")
        return response.hexLiteral + " from \(sdataIn) (\(flags))"
    }
}

/// HDAUDIO_CODEC_TRANSFER: one verb (Output) and its response (Input).
public struct CodecTransfer: Hashable, Sendable {
    /// Output: the 32-bit command (bits 31:28 codec address, which the bus sets to the
    /// interface's codec address; 27:20 node; 19:0 verb and payload).
    public var output: UInt32
    /// Input: the response, filled by TransferCodecVerbs.
    public var input: CodecResponse

    /// A transfer of `verb`, its response not yet filled.
    public init(verb: UInt32) {
        output = verb
        input = .none(from: UInt8(CorbEntry.codecAddress.extract(verb)))
    }
}

/// The completion callback of an asynchronous TransferCodecVerbs
/// (PHDAUDIO_TRANSFER_COMPLETE_CALLBACK): called at DISPATCH_LEVEL with the transfers,
/// their responses filled, and the caller's context.
public typealias CodecTransferCompletion = @Sendable (_ transfers: [CodecTransfer], _ context: UInt) -> Void

/// An unsolicited-response callback (PHDAUDIO_UNSOLICITED_RESPONSE_CALLBACK): called at
/// DISPATCH_LEVEL with the response and the context given to RegisterEventCallback.
public typealias UnsolicitedResponseHandler = @Sendable (_ response: CodecResponse, _ context: UInt) -> Void

/// GetResourceInformation outputs.
public struct ResourceInformation: Hashable, Sendable {
    /// CodecAddress: the interface's codec address.
    public var codecAddress: Int
    /// FunctionGroupStartNode: the first function group node of the codec (from the root
    /// node's Subordinate Node Count parameter).
    public var functionGroupStartNode: UInt8

    /// Resource information.
    public init(codecAddress: Int, functionGroupStartNode: UInt8) {
        self.codecAddress = codecAddress
        self.functionGroupStartNode = functionGroupStartNode
    }
}

/// The CORB/RIRB command path's bookkeeping (behind its own lock, never the bus lock,
/// so that the ISR can drain the RIRB while a synchronous transfer stalls).
///
/// Every step is linear in what it moves: verbs wait in one FIFO per codec, at most one
/// verb per codec is in flight, and a request that is abandoned or whose client closed is
/// simply forgotten (its verbs still queued are skipped when they reach the head).
struct CommandState: Sendable {
    struct Slot: Sendable {
        var request: UInt64
        var index: Int
        var address: Int
        var verb: UInt32
        var deadline: UInt32 = 0
    }
    struct Request: Sendable {
        var client: UInt32
        var transfers: [CodecTransfer]
        var remaining: Int
        var completion: CodecTransferCompletion?
        var context: UInt
    }
    struct Registration: Sendable {
        var client: UInt32
        var handler: UnsolicitedResponseHandler
        var context: UInt
    }

    /// A FIFO of verbs for one codec, popped in O(1) amortised.
    struct Queue: Sendable {
        private var items: [Slot] = []
        private var head = 0
        var isEmpty: Bool { head == items.count }
        var count: Int { items.count - head }
        mutating func append(_ slot: Slot) { items.append(slot) }
        mutating func popFirst() -> Slot? {
            guard head < items.count else { return nil }
            let slot = items[head]
            head += 1
            if head == items.count { items.removeAll(keepingCapacity: true); head = 0 }
            else if head >= 1024 && head * 2 >= items.count { items.removeFirst(head); head = 0 }
            return slot
        }
    }

    var corbWritePointer = 0
    var rirbReadPointer = 0
    /// Verbs not yet sent, per codec address.
    var backlog = Array(repeating: Queue(), count: SDILines.maximum)
    /// Verbs in `backlog` (abandoned ones included until they are skipped).
    var backlogCount = 0
    /// The one verb in flight per codec address.
    var inFlight: [Slot?] = Array(repeating: nil, count: SDILines.maximum)
    var inFlightCount = 0
    var requests: [UInt64: Request] = [:]
    /// Verbs of asynchronous requests not yet completed, per client (bounded).
    var asyncVerbs: [UInt32: Int] = [:]
    /// Whether a platform timer is armed to check the in-flight deadlines.
    var timerArmed = false
    var finished: [UInt64: [CodecTransfer]] = [:]
    var nextRequest: UInt64 = 1
    var overrun = false
    /// Unsolicited-response registrations: codec address -> tag -> registration.
    var callbacks: [Int: [UInt8: Registration]] = [:]
}

extension HDAudioBus {
    /// CORB and RIRB entries (256 each).
    static let ringEntries = 256
    /// Where the RIRB sits in the ring page.
    static let rirbOffset: UInt64 = 2048
    /// Unsolicited-response tags per codec (6 bits).
    public static let unsolicitedTags = 64
    /// How long the bus waits for a codec's response, in link frames, beyond the verbs ahead of it.
    static let responseTimeoutFrames: UInt32 = 4
    /// A synchronous transfer polls the RIRB every 10 us of stall.
    static let responsePollMicroseconds: UInt64 = 10

    /// Sets up CORB and RIRB (256 entries each) in one page, starts both DMA engines, enables
    /// the response interrupt after every response and unsolicited responses (GCTL.UNSOL).
    static func setUpCommandRings(_ p: any HDAPlatform, page: UInt64) throws(NTStatus) {
        p.write8(HDARegister.corbctl, 0)
        p.write8(HDARegister.rirbctl, 0)
        p.write32(HDARegister.corblbase, UInt32(truncatingIfNeeded: page))
        p.write32(HDARegister.corbubase, UInt32(truncatingIfNeeded: page >> 32))
        p.write8(HDARegister.corbsize, RingSize.field.placing(RingSize.twoHundredFiftySix.rawValue))
        p.write16(HDARegister.corbrp, CorbReadPointer.reset)
        guard poll(p, limit: handshakeLimitMicroseconds, every: handshakePollMicroseconds, { p.read16(HDARegister.corbrp) & CorbReadPointer.reset != 0 })
        else { throw .deviceNotReady }
        p.write16(HDARegister.corbrp, 0)
        guard poll(p, limit: handshakeLimitMicroseconds, every: handshakePollMicroseconds, { p.read16(HDARegister.corbrp) & CorbReadPointer.reset == 0 })
        else { throw .deviceNotReady }
        p.write16(HDARegister.corbwp, 0)
        let rirb = page + rirbOffset
        p.write32(HDARegister.rirblbase, UInt32(truncatingIfNeeded: rirb))
        p.write32(HDARegister.rirbubase, UInt32(truncatingIfNeeded: rirb >> 32))
        p.write8(HDARegister.rirbsize, RingSize.field.placing(RingSize.twoHundredFiftySix.rawValue))
        p.write16(HDARegister.rirbwp, RirbWritePointer.reset)
        p.write16(HDARegister.rintcnt, 1)
        p.write8(HDARegister.rirbctl, RirbControl.responseInterrupt | RirbControl.dmaEnable | RirbControl.overrunInterrupt)
        p.write8(HDARegister.corbctl, CorbControl.run | CorbControl.memoryErrorInterrupt)
        p.write32(HDARegister.gctl, p.read32(HDARegister.gctl) | GlobalControl.unsol)
    }

    /// The controller half of the ISR: clears RIRBSTS and CORBSTS and drains the RIRB.
    func serviceCommandInterrupt() {
        let rirbsts = platform.read8(HDARegister.rirbsts)
        platform.write8(HDARegister.rirbsts, rirbsts & RirbStatus.writeOneToClear)
        let corbsts = platform.read8(HDARegister.corbsts)
        if corbsts != 0 { platform.write8(HDARegister.corbsts, corbsts) }
        commands.withLock { s in
            if rirbsts & RirbStatus.overrun != 0 { s.overrun = true }
            drainResponses(&s)
        }
    }

    /// Moves verbs from the backlog into the CORB, at most one in flight per codec (so a
    /// response from a codec always answers that codec's one outstanding verb, and a verb
    /// the codec ignores times out before the next is sent), then writes CORBWP once.
    func pumpCommands(_ s: inout CommandState) {
        guard s.backlogCount > 0 else { return }
        var wrote = false
        var now: UInt32? = nil
        for address in s.backlog.indices where s.inFlight[address] == nil {
            // Verbs of requests that were abandoned or whose client closed are skipped.
            var next: CommandState.Slot? = nil
            while let candidate = s.backlog[address].popFirst() {
                s.backlogCount -= 1
                if s.requests[candidate.request] != nil { next = candidate; break }
            }
            guard var slot = next else { continue }
            s.corbWritePointer = (s.corbWritePointer + 1) % HDAudioBus.ringEntries
            let v = slot.verb
            platform.writeMemory(configuration.commandRings + UInt64(s.corbWritePointer * CorbEntry.size),
                                 bytes: [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8),
                                         UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 24)])
            // One verb leaves per frame and is answered in the next: allow the verbs ahead
            // of it in the CORB, plus a margin.
            let start = now ?? platform.read32(HDARegister.walclk)
            now = start
            let frames = UInt32(s.inFlightCount) + HDAudioBus.responseTimeoutFrames
            slot.deadline = start &+ frames &* UInt32(LinkTiming.bitClocksPerFrame)
            s.inFlight[address] = slot
            s.inFlightCount += 1
            wrote = true
        }
        if wrote { platform.write16(HDARegister.corbwp, UInt16(s.corbWritePointer)) }
        armDeadlineTimer(&s)
    }

    /// Asks the platform for a DPC at the earliest in-flight deadline, so that a verb a
    /// codec ignores times out (and an asynchronous request completes) even when nothing
    /// else enters the bus. A platform without timers still has the deadlines checked on
    /// every interrupt and every transfer.
    func armDeadlineTimer(_ s: inout CommandState) {
        guard s.inFlightCount > 0, !s.timerArmed else { return }
        let now = platform.read32(HDARegister.walclk)
        let earliest = s.inFlight.compactMap { $0.map { Int32(bitPattern: $0.deadline &- now) } }.min() ?? 0
        let bclk = UInt64(max(earliest, 0)) + 1
        let microseconds = (bclk * 1_000_000 + LinkTiming.bitClockHz - 1) / LinkTiming.bitClockHz
        s.timerArmed = platform.setTimer(microseconds: microseconds) { [weak self] in self?.deadlineTimerFired() }
    }

    /// The deadline timer's DPC: drains the RIRB (timing out late verbs), re-arms while
    /// verbs are in flight, and runs the completions it queued.
    func deadlineTimerFired() {
        commands.withLock { s in
            s.timerArmed = false
            drainResponses(&s)
            armDeadlineTimer(&s)
        }
        runDeferredSignals()
    }

    /// Reads new RIRB entries: solicited responses complete the oldest verb sent to that
    /// codec (verbs ahead of it that got no answer are marked invalid); unsolicited ones go
    /// to the callback registered for their codec and tag, at DISPATCH_LEVEL. Verbs past
    /// their deadline are marked invalid. Finished requests complete.
    func drainResponses(_ s: inout CommandState) {
        let writePointer = Int(RirbWritePointer.pointer.extract(platform.read16(HDARegister.rirbwp)))
        let rirb = configuration.commandRings + HDAudioBus.rirbOffset
        while s.rirbReadPointer != writePointer {
            s.rirbReadPointer = (s.rirbReadPointer + 1) % HDAudioBus.ringEntries
            guard let entry = platform.readMemory(rirb + UInt64(s.rirbReadPointer * RirbEntry.size), count: RirbEntry.size) else { continue }
            let value = UInt32(entry[0]) | UInt32(entry[1]) << 8 | UInt32(entry[2]) << 16 | UInt32(entry[3]) << 24
            let address = Int(RirbEntry.codecAddress.extract(UInt32(entry[4])))
            let response = CodecResponse(response: value, isValid: true, hasFifoOverrun: s.overrun,
                                         isUnsolicited: RirbEntry.unsolicited.isSet(in: UInt32(entry[4])), sdataIn: UInt8(address))
            s.overrun = false
            if response.isUnsolicited {
                if let r = s.callbacks[address]?[response.tag] {
                    let handler = r.handler, context = r.context, unsolicited = response
                    queueDeferred { handler(unsolicited, context) }
                }
                continue
            }
            // At most one verb per codec is in flight: this response answers it.
            guard s.inFlight.indices.contains(address), let slot = s.inFlight[address] else { continue }
            s.inFlight[address] = nil
            s.inFlightCount -= 1
            finish(slot, with: response, &s)
        }
        if s.inFlightCount > 0 {
            let now = platform.read32(HDARegister.walclk)
            for address in s.inFlight.indices {
                guard let slot = s.inFlight[address], Int32(bitPattern: now &- slot.deadline) > 0 else { continue }
                s.inFlight[address] = nil
                s.inFlightCount -= 1
                finish(slot, with: .none(from: UInt8(slot.address)), &s)
            }
        }
        pumpCommands(&s)
        armDeadlineTimer(&s)
    }

    /// Records one verb's response; completes its request when it was the last.
    func finish(_ slot: CommandState.Slot, with response: CodecResponse, _ s: inout CommandState) {
        guard var r = s.requests[slot.request] else { return }
        r.transfers[slot.index].input = response
        r.remaining -= 1
        if r.remaining > 0 {
            s.requests[slot.request] = r
            return
        }
        s.requests[slot.request] = nil
        if let completion = r.completion {
            s.asyncVerbs[r.client, default: 0] -= r.transfers.count
            if s.asyncVerbs[r.client] == 0 { s.asyncVerbs[r.client] = nil }
            let transfers = r.transfers, context = r.context
            queueDeferred { completion(transfers, context) }
        } else {
            s.finished[slot.request] = r.transfers
        }
    }

    /// Asynchronous verbs one client may have queued and not completed: more is
    /// STATUS_INSUFFICIENT_RESOURCES, so that one client cannot fill the command path and
    /// starve the others' transfers.
    public static let maxAsyncVerbsPerClient = 256

    /// Queues verbs for a codec; returns the request id. A codec that is not present gets
    /// no verbs sent: its responses are invalid at once. INSUFFICIENT_RESOURCES when an
    /// asynchronous request would take the client over `maxAsyncVerbsPerClient`.
    func submitVerbs(client: UInt32, _ transfers: [CodecTransfer], codecAddress: Int, completion: CodecTransferCompletion?,
                     context: UInt) throws(NTStatus) -> UInt64 {
        let present = presentCodecs & (1 << UInt16(codecAddress)) != 0
        return try commands.withLock { (s: inout CommandState) throws(NTStatus) -> UInt64 in
            if completion != nil {
                let queued = s.asyncVerbs[client, default: 0]
                guard transfers.count <= HDAudioBus.maxAsyncVerbsPerClient - queued else { throw .insufficientResources }
                s.asyncVerbs[client] = queued + transfers.count
            }
            let id = s.nextRequest
            s.nextRequest += 1
            var prepared = transfers
            for i in prepared.indices {
                prepared[i].output = CorbEntry.codecAddress.inserting(UInt32(codecAddress), into: prepared[i].output)
                prepared[i].input = .none(from: UInt8(codecAddress))
            }
            s.requests[id] = CommandState.Request(client: client, transfers: prepared, remaining: prepared.count,
                                                  completion: completion, context: context)
            if present {
                for (i, t) in prepared.enumerated() {
                    s.backlog[codecAddress].append(CommandState.Slot(request: id, index: i, address: codecAddress, verb: t.output))
                }
                s.backlogCount += prepared.count
                pumpCommands(&s)
            } else {
                for i in prepared.indices {
                    finish(CommandState.Slot(request: id, index: i, address: codecAddress, verb: prepared[i].output),
                           with: .none(from: UInt8(codecAddress)), &s)
                }
            }
            return id
        }
    }

    /// TransferCodecVerbs: synchronous without a completion (stalls, polling the RIRB),
    /// asynchronous with one (rules and statuses: the two
    /// `HDAudioBusInterface.transferCodecVerbs` routines).
    func transferVerbs(client: UInt32, codecAddress: Int, _ transfers: [CodecTransfer],
                       completion: CodecTransferCompletion?, context: UInt) throws(NTStatus) -> [CodecTransfer] {
        try require(completion == nil ? .passive : .dispatch)
        guard !transfers.isEmpty else { throw .invalidParameter }
        guard isOpen(client) else { throw .invalidDeviceRequest }
        let queuedAhead = commands.withLock { s in
            drainResponses(&s)   // every transfer is a chance to time out verbs a codec ignored
            return s.backlogCount + s.inFlightCount
        }
        let id = try submitVerbs(client: client, transfers, codecAddress: codecAddress, completion: completion, context: context)
        defer { runDeferredSignals() }
        if completion != nil { return [] }
        // The wait is bounded by the bus's own stall time as well as by the WALCLK
        // deadlines: a controller that falls back into reset freezes WALCLK, and the
        // transfer must still come back (with IsValid = 0) instead of waiting forever.
        let frames = UInt64(queuedAhead + transfers.count) + UInt64(HDAudioBus.responseTimeoutFrames)
        let limit = 2 * LinkTiming.microseconds(frames: frames) + 1000
        var waited: UInt64 = 0
        while true {
            if let done = commands.withLock({ s -> [CodecTransfer]? in
                drainResponses(&s)
                if waited >= limit { abandon(request: id, &s) }
                return s.finished.removeValue(forKey: id)
            }) { return done }
            platform.stall(microseconds: HDAudioBus.responsePollMicroseconds)
            waited += HDAudioBus.responsePollMicroseconds
        }
    }

    /// Gives up on a synchronous request whose wait ran out: its verbs still queued or in
    /// flight get no response (IsValid = 0); those queued are skipped, one in flight still
    /// holds its codec until its response or deadline, and is then dropped.
    func abandon(request id: UInt64, _ s: inout CommandState) {
        guard let r = s.requests.removeValue(forKey: id) else { return }
        s.finished[id] = r.transfers
    }

    /// Forgets a closed client's asynchronous requests: their completions never run.
    func dropRequests(client: UInt32, _ s: inout CommandState) {
        for (id, r) in s.requests where r.client == client { s.requests[id] = nil }
        s.asyncVerbs[client] = nil
    }

    /// RegisterEventCallback, for the client `client`
    /// (`HDAudioBusInterface.registerEventCallback(_:context:)`).
    func registerCallback(client: UInt32, codecAddress: Int, handler: @escaping UnsolicitedResponseHandler,
                          context: UInt) throws(NTStatus) -> UInt8 {
        try require(.passive)
        guard isOpen(client) else { throw .invalidDeviceRequest }
        return try commands.withLock { (s: inout CommandState) throws(NTStatus) -> UInt8 in
            var tags = s.callbacks[codecAddress, default: [:]]
            guard let tag = (0..<UInt8(HDAudioBus.unsolicitedTags)).first(where: { tags[$0] == nil }) else { throw .insufficientResources }
            tags[tag] = CommandState.Registration(client: client, handler: handler, context: context)
            s.callbacks[codecAddress] = tags
            return tag
        }
    }

    /// UnregisterEventCallback, for the client `client`
    /// (`HDAudioBusInterface.unregisterEventCallback(tag:)`).
    func unregisterCallback(client: UInt32, codecAddress: Int, tag: UInt8) throws(NTStatus) {
        try require(.passive)
        try commands.withLock { (s: inout CommandState) throws(NTStatus) in
            guard s.callbacks[codecAddress]?[tag]?.client == client else { throw .invalidParameter }
            s.callbacks[codecAddress]?[tag] = nil
        }
    }

    /// Drops a closed client's unsolicited-response registrations and verb requests.
    func dropCallbacks(client: UInt32) {
        commands.withLock { s in
            dropRequests(client: client, &s)
            for (address, tags) in s.callbacks {
                s.callbacks[address] = tags.filter { $0.value.client != client }
            }
        }
    }

    /// GetResourceInformation, for the client `client`
    /// (`HDAudioBusInterface.getResourceInformation()`).
    func resourceInformation(client: UInt32, codecAddress: Int) throws(NTStatus) -> ResourceInformation {
        try require(.passive)
        let getSubordinateNodeCount: UInt32 = 0xF00 << 8 | 0x04   // node 0
        let done = try transferVerbs(client: client, codecAddress: codecAddress, [CodecTransfer(verb: getSubordinateNodeCount)],
                                     completion: nil, context: 0)
        guard let r = done.first?.input, r.isValid else { throw .deviceNotReady }
        return ResourceInformation(codecAddress: codecAddress, functionGroupStartNode: UInt8((r.response >> 16) & 0xFF))
    }
}
