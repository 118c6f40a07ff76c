import HDAudio
import HDAudioBus

/// A bus started on a fake platform, with the few views of it the DDI tests ask for: the
/// same shape as Azalia's system, so a rule reads the same whichever platform it runs on.
struct FakeSystem {
    let platform: FakePlatform
    let bus: HDAudioBus

    /// A bus on `platform`; by default a fake 4-in, 4-out controller with codecs at
    /// addresses 0, 1 and 2 (as the bus tests on Azalia's controller have).
    init(_ platform: FakePlatform = FakePlatform(codecMask: 0b111)) throws {
        self.platform = platform
        bus = try HDAudioBus(platform: platform)
    }

    /// Opens an interface.
    func openInterface<V: InterfaceVersion>(codecAddress: Int, version: V) throws(NTStatus) -> V.Interface {
        try bus.openInterface(codecAddress: codecAddress, version: version)
    }

    /// Pages allocated and not freed.
    var allocatedPages: Int { platform.pagesInUse }
    /// SDnCTL (24 bits) of descriptor `index`.
    func control(_ index: Int) -> StreamControl {
        StreamControl(rawValue: platform.peek(HDARegister.streamDescriptor(index) + HDARegister.SD.ctl, width: 4))
    }
    /// A 32-bit descriptor register.
    func sd32(_ index: Int, _ reg: UInt32) -> UInt32 { platform.peek(HDARegister.streamDescriptor(index) + reg, width: 4) }
    /// A 16-bit descriptor register.
    func sd16(_ index: Int, _ reg: UInt32) -> UInt16 { UInt16(platform.peek(HDARegister.streamDescriptor(index) + reg, width: 2)) }
    /// The descriptor index of the only engine with tag `tag` in `direction`.
    func engineIndex(tag: UInt8, _ direction: StreamDirection) -> Int? {
        (try? bus.resources())?.engines.first { $0.tag == tag && $0.direction == direction }?.index
    }
}
