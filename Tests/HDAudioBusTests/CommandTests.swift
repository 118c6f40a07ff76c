import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Synchronization
import Testing
import TestSupport

/// A codec that answers every verb with a function of it (or ignores verbs of node 0x7F),
/// reports a function group at node 1 and sends unsolicited responses on demand.
final class VerbCodec: LinkCodec {
    var unsolicited: [UInt32] = []
    var seen: [UInt32] = []
    static func answer(_ verb: UInt32) -> UInt32 { (verb & 0x0FFF_FFFF) ^ 0x5A00_0000 }
    func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {}
    func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, into data: UnsafeMutableRawBufferPointer) -> Bool { false }
    func linkCommand(_ verb: UInt32) -> UInt32? {
        seen.append(verb)
        if (verb >> 20) & 0xFF == 0x7F { return nil }
        if verb & 0x0FFF_FFFF == 0x000F_0004 { return 0x0001_0001 }   // root: 1 subordinate node starting at 1
        return VerbCodec.answer(verb)
    }
    func linkPollUnsolicited() -> UInt32? { unsolicited.isEmpty ? nil : unsolicited.removeFirst() }
}

func verbSystem(_ addresses: [Int] = [0, 2]) throws -> AzaliaSystem {
    var codecs: [Int: any LinkCodec] = [:]
    for a in addresses { codecs[a] = VerbCodec() }
    return try AzaliaSystem(profile: .ich6, memoryPages: 256, codecs: codecs)
}

@Suite("Codec verbs and unsolicited responses (TransferCodecVerbs, RegisterEventCallback, GetResourceInformation)")
struct CommandTests {
    static func verb(node: UInt32, _ n: UInt32) -> UInt32 { node << 20 | 0xF00 << 8 | (n & 0xFF) }

    @Test("TransferCodecVerbs (synchronous) returns each verb's response from the interface's codec, in order")
    func synchronous() throws {
        let system = try verbSystem()
        let client = try system.openInterface(codecAddress: 2, version: .base)
        // The address bits the caller put in are replaced by the interface's.
        let verbs = (0..<5).map { CommandTests.verb(node: UInt32($0), UInt32($0)) | 0x3000_0000 }
        let done = try client.transferCodecVerbs(verbs.map { CodecTransfer(verb: $0) })
        #expect(done.count == 5)
        for (i, t) in done.enumerated() {
            #expect(t.output >> 28 == 2)
            #expect(t.input.isValid && !t.input.isUnsolicited && t.input.sdataIn == 2)
            #expect(t.input.response == VerbCodec.answer(verbs[i] & 0x0FFF_FFFF | 0x2000_0000))
        }
        let seen = system.platform.withController { ($0.codec(at: 2) as? VerbCodec)?.seen ?? [] }
        #expect(seen == verbs.map { $0 & 0x0FFF_FFFF | 0x2000_0000 })
    }

    @Test("Both rings wrap: 700 verbs in one call and then more calls all get their own responses")
    func ringsWrap() throws {
        let system = try verbSystem()
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let verbs = (0..<700).map { CommandTests.verb(node: UInt32($0 % 100), UInt32($0)) }
        let done = try client.transferCodecVerbs(verbs.map { CodecTransfer(verb: $0) })
        #expect(done.map(\.input.response) == verbs.map { VerbCodec.answer($0) })
        #expect(done.allSatisfy { $0.input.isValid })
        for round in 0..<3 {
            let more = try client.transferCodecVerbs([CodecTransfer(verb: CommandTests.verb(node: 9, UInt32(round)))])
            #expect(more[0].input.response == VerbCodec.answer(CommandTests.verb(node: 9, UInt32(round))))
        }
    }

    @Test("A verb the codec does not answer, or a codec that is not there, gives IsValid = 0; the others still match")
    func unanswered() throws {
        let system = try verbSystem([0])
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let verbs = [CommandTests.verb(node: 1, 1), CommandTests.verb(node: 0x7F, 2), CommandTests.verb(node: 3, 3)]
        let done = try client.transferCodecVerbs(verbs.map { CodecTransfer(verb: $0) })
        #expect(done.map(\.input.isValid) == [true, false, true])
        #expect(done[0].input.response == VerbCodec.answer(verbs[0]))
        #expect(done[2].input.response == VerbCodec.answer(verbs[2]))
        let absent = try system.openInterface(codecAddress: 5, version: .base)
        let none = try absent.transferCodecVerbs([CodecTransfer(verb: CommandTests.verb(node: 1, 1))])
        #expect(none.map(\.input.isValid) == [false])
    }

    @Test("TransferCodecVerbs statuses: no verbs is INVALID_PARAMETER; synchronous above PASSIVE and asynchronous at DIRQL are UNSUCCESSFUL")
    func statuses() throws {
        let system = try verbSystem()
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        expectStatus(.invalidParameter) { try client.transferCodecVerbs([]) }
        expectStatus(.invalidParameter) { try client.transferCodecVerbs([], callback: { _, _ in }, context: 0) }
        try system.atIRQL(.dispatch) {
            expectStatus(.unsuccessful) { try client.transferCodecVerbs([CodecTransfer(verb: 0xF0000)]) }
            try client.transferCodecVerbs([CodecTransfer(verb: 0xF0000)], callback: { _, _ in }, context: 0)
            expectStatus(.unsuccessful) { try client.registerEventCallback({ _, _ in }, context: 0) }
            expectStatus(.unsuccessful) { try client.unregisterEventCallback(tag: 0) }
            expectStatus(.unsuccessful) { try client.getResourceInformation() }
        }
        try system.atIRQL(.dirql) {
            expectStatus(.unsuccessful) { try client.transferCodecVerbs([CodecTransfer(verb: 0xF0000)], callback: { _, _ in }, context: 0) }
        }
    }

    @Test("TransferCodecVerbs (asynchronous) completes at DISPATCH_LEVEL with every response as link time moves")
    func asynchronous() throws {
        let system = try verbSystem()
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let results = PThreadMutex<[(transfers: [CodecTransfer], context: UInt, irql: IRQL)]>([])
        let platform = system.platform
        let verbs = (0..<10).map { CommandTests.verb(node: UInt32($0), 0x20) }
        try client.transferCodecVerbs(verbs.map { CodecTransfer(verb: $0) }, callback: { transfers, context in
            results.withLock { $0.append((transfers, context, platform.currentIRQL)) }
        }, context: 77)
        #expect(results.withLock { $0.isEmpty })
        system.advance(frames: 100)
        let done = results.withLock { $0 }
        #expect(done.count == 1)
        #expect(done.first?.context == 77 && done.first?.irql == .dispatch)
        #expect(done.first?.transfers.map(\.input.response) == verbs.map { VerbCodec.answer($0) })
    }

    @Test("Unsolicited responses reach the callback registered for their tag, at DISPATCH_LEVEL; unregistered tags are dropped")
    func unsolicited() throws {
        let system = try verbSystem()
        let client = try system.openInterface(codecAddress: 2, version: .base)
        let got = PThreadMutex<[(CodecResponse, UInt, IRQL)]>([])
        let platform = system.platform
        let tag = try client.registerEventCallback({ r, c in got.withLock { $0.append((r, c, platform.currentIRQL)) } }, context: 5)
        let other = try client.registerEventCallback({ _, _ in }, context: 6)
        #expect(tag != other)
        try client.unregisterEventCallback(tag: other)
        system.platform.withController { c in
            (c.codec(at: 2) as? VerbCodec)?.unsolicited = [UInt32(tag) << 26 | 0x123, UInt32(other) << 26 | 0x456, UInt32(tag) << 26 | 0x789]
        }
        system.advance(frames: 20)
        let seen = got.withLock { $0 }
        #expect(seen.map(\.0.response) == [UInt32(tag) << 26 | 0x123, UInt32(tag) << 26 | 0x789])
        #expect(seen.allSatisfy { $0.0.isUnsolicited && $0.0.isValid && $0.0.sdataIn == 2 && $0.1 == 5 && $0.2 == .dispatch })
    }

    @Test("RegisterEventCallback: 64 tags per codec, then INSUFFICIENT_RESOURCES; UnregisterEventCallback of a tag not ours is INVALID_PARAMETER")
    func tagStatuses() throws {
        let system = try verbSystem()
        let alice = try system.openInterface(codecAddress: 0, version: .base)
        let bob = try system.openInterface(codecAddress: 0, version: .v2)
        let carol = try system.openInterface(codecAddress: 2, version: .v2)
        var tags: [UInt8] = []
        for _ in 0..<40 { tags.append(try alice.registerEventCallback({ _, _ in }, context: 0)) }
        for _ in 0..<24 { tags.append(try bob.registerEventCallback({ _, _ in }, context: 0)) }
        #expect(Set(tags) == Set(0..<64))
        expectStatus(.insufficientResources) { try alice.registerEventCallback({ _, _ in }, context: 0) }
        // Another codec has its own 64 tags.
        let carolTag = try carol.registerEventCallback({ _, _ in }, context: 0)
        #expect(carolTag == 0)
        expectStatus(.invalidParameter) { try bob.unregisterEventCallback(tag: tags[0]) }
        try alice.unregisterEventCallback(tag: tags[0])
        expectStatus(.invalidParameter) { try alice.unregisterEventCallback(tag: tags[0]) }
        // Closing a client frees its tags.
        bob.close()
        for _ in 0..<25 { _ = try alice.registerEventCallback({ _, _ in }, context: 0) }
        expectStatus(.insufficientResources) { try alice.registerEventCallback({ _, _ in }, context: 0) }
    }

    @Test("GetResourceInformation reports the codec address and its function group start node; a silent codec is DEVICE_NOT_READY")
    func resourceInformation() throws {
        let system = try verbSystem()
        let client = try system.openInterface(codecAddress: 2, version: .bdl)
        let info = try client.getResourceInformation()
        #expect(info == ResourceInformation(codecAddress: 2, functionGroupStartNode: 1))
        let absent = try system.openInterface(codecAddress: 4, version: .base)
        expectStatus(.deviceNotReady) { try absent.getResourceInformation() }
    }

    @Test("A synchronous TransferCodecVerbs returns within a bounded wait (IsValid = 0) when the controller stops answering and WALCLK stops")
    func verbsBoundedWhenControllerDies() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        system.advance(frames: 100)
        system.platform.withController { $0.write32(HDARegister.gctl, 0) }   // the controller falls back into reset
        let start = system.frame
        let r = try client.transferCodecVerbs([CodecTransfer(verb: 0xF0000)])
        #expect(r.count == 1 && r[0].input.isValid == false)
        #expect(system.frame - start < 48_000, "waited more than a second of link time")
    }
}
