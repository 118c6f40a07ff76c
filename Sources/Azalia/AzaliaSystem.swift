public import HDAController
public import HDAudio
public import HDAudioBus

/// Why an `AzaliaSystem` could not be built.
public enum AzaliaSystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No profile has this name.
    case unknownProfile(String)
    /// The bus driver did not start (the status it returned).
    case busStart(NTStatus)

    /// The reason in words.
    public var description: String {
        switch self {
        case .unknownProfile(let name):
            "unknown profile '\(name)' (known: \(ControllerProfile.all.map(\.name).joined(separator: ", ")))"
        case .busStart(let status): "the bus driver did not start: \(status)"
        }
    }
}

/// A whole virtual machine: guest memory, a controller of a profile with codecs on its
/// link, the platform over it, and the bus driver started on that platform.
///
/// The CLI and end-to-end tests use it: open interfaces on `bus`, move time with
/// `advance(frames:)` (interrupts and notifications are delivered to the frame).
public final class AzaliaSystem: Sendable {
    /// The controller's profile.
    public let profile: ControllerProfile
    /// The platform (controller, guest memory, link time, interrupts).
    public let platform: VirtualPlatform
    /// The bus driver.
    public let bus: HDAudioBus

    /// Guest memory pages a system gets unless told otherwise (16 MiB).
    public static let defaultMemoryPages = 4096

    /// Builds a system: guest memory of `memoryPages` pages, a controller of `profile` with
    /// `faults`, `codecs` attached at their addresses, and the bus started (which resets
    /// the controller and sees the codecs in STATESTS).
    public init(profile: ControllerProfile = .default, memoryPages: Int = AzaliaSystem.defaultMemoryPages,
                faults: FaultInjection = .init(), codecs: sending [Int: any LinkCodec] = [:]) throws(AzaliaSystemError) {
        let memory = GuestMemory(pages: memoryPages)
        let controller = HDAController(profile: profile, memory: memory, faults: faults)
        for (address, codec) in codecs { controller.attach(codec, at: address) }
        self.profile = profile
        platform = VirtualPlatform(controller: controller)
        do {
            bus = try HDAudioBus(platform: platform)
        } catch {
            throw .busStart(error)
        }
    }

    /// Builds a system from a profile name (`ich6`, `ich9`, `skylake-pch`, `azalia-bidi`).
    public convenience init(profileNamed name: String, memoryPages: Int = AzaliaSystem.defaultMemoryPages,
                            faults: FaultInjection = .init(), codecs: sending [Int: any LinkCodec] = [:]) throws(AzaliaSystemError) {
        guard let profile = ControllerProfile.named(name) else { throw .unknownProfile(name) }
        try self.init(profile: profile, memoryPages: memoryPages, faults: faults, codecs: codecs)
    }

    /// Moves link time forward by `frames` frames, delivering interrupts to the frame.
    public func advance(frames: UInt64) { platform.advance(frames: frames) }

    /// The current link frame.
    public var frame: UInt64 { platform.frame }

    /// Attaches a codec at an SDI address after start and lets the bus see it (STATESTS).
    /// False for an address the profile lacks.
    @discardableResult
    public func attach(_ codec: sending any LinkCodec, at address: Int) -> Bool {
        let attached = platform.withController { $0.attach(codec, at: address) }
        if attached { _ = try? bus.rescanCodecs() }   // refused only above PASSIVE_LEVEL
        return attached
    }

    /// Opens a bus interface (see `HDAudioBus.openInterface`).
    public func openInterface<V: InterfaceVersion>(codecAddress: Int, version: V) throws(NTStatus) -> V.Interface {
        try bus.openInterface(codecAddress: codecAddress, version: version)
    }

    /// Changes the injected faults.
    public func setFaults(_ faults: FaultInjection) { platform.withController { $0.faults = faults } }

    /// Limits guest memory to `pages` allocated pages at once (nil: no limit), to inject
    /// allocation failures.
    public func setPageLimit(_ pages: Int?) { platform.withController { $0.memory.pageLimit = pages } }

    /// Guest pages allocated now.
    public var allocatedPages: Int { platform.allocatedPages }
}
