import HDAudio
@testable import HDAudioBus
import Testing
import TestSupport

@Suite("Client ids")
struct ClientIdTests {
    @Test("Client ids that wrap past UInt32.max skip ids still open: a new client never gets another's handles")
    func wrapSkipsOpenIds() throws {
        let system = try FakeSystem()
        let first = try system.openInterface(codecAddress: 0, version: .base)   // id 1, stays open
        let a = try first.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        system.bus.state.withLock { $0.nextClient = UInt32.max }
        let last = try system.openInterface(codecAddress: 0, version: .base)     // id UInt32.max
        let wrapped = try system.openInterface(codecAddress: 0, version: .base)  // not 1: 1 is open
        expectStatus(.invalidHandle) { try wrapped.freeDmaEngine(a.handle) }
        expectStatus(.invalidHandle) { try last.freeDmaEngine(a.handle) }
        let ids = system.bus.state.withLock { Set($0.openClients.keys) }
        #expect(ids == [1, UInt32.max, 2])
        try first.freeDmaEngine(a.handle)
    }
}
