import HDAudio
import HDAudioBus
import Testing
import TestSupport

@Suite("DMA buffer size rounding and BDL layout")
struct BufferLayoutTests {
    /// AllocateDmaBuffer (no notifications) or AllocateDmaBufferWithNotification: the MDL and
    /// the size; a buffer with notifications must start at its first page's start.
    func allocate(_ client: HDAudioV2Interface, _ handle: DmaEngineHandle, notifications: Int,
                  request: Int) throws -> (MemoryDescriptorList, Int) {
        if notifications == 0 {
            let b = try client.allocateDmaBuffer(handle, requestedBufferSize: request)
            return (b.mdl, b.allocatedBufferSize)
        }
        let b = try client.allocateDmaBufferWithNotification(handle, notificationCount: notifications, requestedBufferSize: request)
        #expect(b.offsetFromFirstPage == 0)
        return (b.mdl, b.allocatedBufferSize)
    }

    static let blocks = [1, 2, 3, 4, 6, 8, 12, 20, 24, 64]
    static let requests = [1, 2, 100, 128, 129, 200, 255, 256, 1000, 4095, 4096, 4097, 6000, 8191, 8192, 12288,
                           65536, 100_000, 524_288, 1_048_575, 1_048_576, 1_048_576 + 4096, 5_000_000]

    @Test("The allocated size is the legal size closest to the request (sweep over requests, block sizes, notification counts)",
          arguments: BufferLayoutTests.blocks)
    func roundingSweep(block: Int) {
        for notifications in 0...2 {
            let largest = Rules.largest(block: block, notifications: notifications)
            #expect(DmaBufferLayout.fourKiB.largestSize(blockBytes: block, notifications: notifications) == largest)
            for request in BufferLayoutTests.requests {
                guard let size = DmaBufferLayout.fourKiB.roundedSize(requested: request, blockBytes: block, notifications: notifications) else {
                    Issue.record("no size for \(request)")
                    continue
                }
                #expect(Rules.legal(size, block: block, notifications: notifications), "\(size) for \(request), block \(block), n \(notifications)")
                if request >= largest {
                    #expect(size == largest)
                    continue
                }
                // No legal size is strictly closer to the request.
                let distance = abs(size - request)
                var s = max(block, (request - distance) / block * block)
                while s <= request + distance {
                    if abs(s - request) < distance && Rules.legal(s, block: block, notifications: notifications) {
                        Issue.record("\(s) is closer to \(request) than \(size) (block \(block), n \(notifications))")
                        break
                    }
                    s += block
                }
                let entries = DmaBufferLayout.fourKiB.entries(size: size, blockBytes: block, notifications: notifications)
                #expect(entries?.count == Rules.entryCount(size: size, block: block, notifications: notifications))
            }
        }
    }

    @Test("With pages of 2, 8 or 16 KiB the layout follows the rules for that page: closest legal size, no entry crosses a page",
          arguments: [2048, 8192, 16384])
    func otherPageSizes(page: Int) throws {
        let layout = try #require(DmaBufferLayout(pageSize: page))
        #expect(layout.maxBytes == 256 * page)
        for block in [1, 4, 6, 24, 64] {
            for notifications in 0...2 {
                let largest = Rules.largest(block: block, notifications: notifications, page: page)
                #expect(layout.largestSize(blockBytes: block, notifications: notifications) == largest)
                for request in [1, 300, page - 1, page, page + 1, 3 * page + 5, 100 * page, 300 * page] {
                    let size = try #require(layout.roundedSize(requested: request, blockBytes: block, notifications: notifications))
                    #expect(Rules.legal(size, block: block, notifications: notifications, page: page),
                            "page \(page): \(size) for \(request), block \(block), n \(notifications)")
                    let entries = try #require(layout.entries(size: size, blockBytes: block, notifications: notifications))
                    #expect(entries.count == Rules.entryCount(size: size, block: block, notifications: notifications, page: page))
                    var offset = 0
                    for e in entries {
                        #expect(e.offset == offset && e.offset % 128 == 0 && e.length > 0)
                        #expect(e.offset / page == (e.offset + e.length - 1) / page, "page \(page): entry at \(e.offset) crosses a page")
                        offset += e.length
                    }
                    #expect(offset == size)
                    let iocEnds = entries.filter(\.interruptOnCompletion).map { $0.offset + $0.length }
                    #expect(iocEnds == (notifications == 2 ? [size / 2, size] : notifications == 1 ? [size] : []))
                }
            }
        }
    }

    @Test("A page size that is not a positive multiple of 128 bytes has no layout")
    func pageSizeMustBeAligned() {
        for bad in [0, -4096, 100, 4095, 4096 + 64] { #expect(DmaBufferLayout(pageSize: bad) == nil) }
        for good in [128, 4096, 65536] { #expect(DmaBufferLayout(pageSize: good)?.pageSize == good) }
    }

    @Test("A request of 0 has no size (STATUS_INVALID_PARAMETER at the DDI)")
    func zeroRequest() {
        #expect(DmaBufferLayout.fourKiB.roundedSize(requested: 0, blockBytes: 4, notifications: 1) == nil)
    }

    @Test("BDL read back from guest memory: entries, alignment, IOC, at most 256",
          arguments: [(4096, 1), (4096, 2), (1_048_576, 1), (1_048_576 + 4096, 1), (8192, 2), (16384, 2),
                      (1_048_576, 2), (1_048_576 + 4096, 2), (6000, 2), (300, 1), (4096, 0), (1_048_576, 0)])
    func bdlReadBack(request: Int, notifications: Int) throws {
        let system = try FakeSystem()
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let (mdl, size) = try allocate(client, a.handle, notifications: notifications, request: request)
        #expect(mdl.byteOffset == 0 && mdl.byteCount == size)
        #expect(mdl.pages.count == (size + 4095) / 4096)
        #expect(mdl.pages.allSatisfy { $0 % 4096 == 0 })
        #expect(Rules.legal(size, block: 4, notifications: notifications))
        let index = try #require(system.engineIndex(tag: 1, .render))
        let bdl = try ProgrammedBDL(platform: system.platform, index: index)
        let ioc = bdl.check(mdl: mdl, size: size)
        switch notifications {
        case 0: #expect(ioc.isEmpty)
        case 1: #expect(ioc == [size])
        default: #expect(ioc == [size / 2, size])
        }
        #expect(bdl.format == (try ConverterFormat(F.stereo48)).rawValue)
        #expect(system.control(index).streamTag == 1)
        if request == 1_048_576 + 4096 { #expect(size == 1_048_576) }
        if request == 4096 { #expect(size == 4096) }
        if request == 8192 && notifications == 2 {
            // The half is a whole page: the IOC entry ends exactly at the second page's start.
            #expect(size == 8192)
            #expect(bdl.entries.count == 2)
            #expect(bdl.entries[1].address == mdl.pages[1])
        }
    }

    @Test("BDL layouts of every size from 1 to 40 pages with both notification counts", arguments: 1...40)
    func everyPageCount(pages: Int) throws {
        for notifications in 1...2 {
            for block in [4, 6] {
                let size = try #require(DmaBufferLayout.fourKiB.roundedSize(requested: pages * 4096, blockBytes: block, notifications: notifications))
                let entries = try #require(DmaBufferLayout.fourKiB.entries(size: size, blockBytes: block, notifications: notifications))
                #expect(entries.reduce(0) { $0 + $1.length } == size)
                #expect(entries.allSatisfy { $0.offset % 128 == 0 && $0.length > 0 })
                #expect(entries.filter(\.interruptOnCompletion).map { $0.offset + $0.length }
                        == (notifications == 2 ? [size / 2, size] : [size]))
            }
        }
    }


    static let awkwardFormats: [StreamFormat] = [
        StreamFormat(rate: 48000, bits: 8, channels: 3),     // 3-byte blocks
        StreamFormat(rate: 48000, bits: 16, channels: 3),    // 6
        StreamFormat(rate: 48000, bits: 24, channels: 6),    // 24 (32-bit containers)
        StreamFormat(rate: 48000, bits: 16, channels: 15),   // 30
        StreamFormat(rate: 48000, bits: 32, channels: 13),   // 52
        StreamFormat(rate: 48000, bits: 32, channels: 16),   // 64
    ]

    @Test("Allocated size is the legal size closest to the request (1 byte, awkward sizes, above the largest, Int.max)",
          arguments: awkwardFormats, [0, 1, 2])
    func roundingAtTheExtremes(format: StreamFormat, notifications: Int) throws {
        let system = try FakeSystem()
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: format, stripe: false)
        let block = memoryBlockBytes(format)
        let largest = stride(from: 1 << 20, through: 1, by: -1).first { Rules.legal($0, block: block, notifications: notifications) }!
        for request in [1, 2, 127, 128, 129, 4095, 4096, 4097, 65536 + 3, 1 << 20, (1 << 20) + 4096, Int.max] {
            let (mdl, size) = try allocate(client, a.handle, notifications: notifications, request: request)
            #expect(Rules.legal(size, block: block, notifications: notifications), "request \(request): \(size) is not legal")
            if request >= largest {
                #expect(size == largest, "request \(request) above the largest legal \(largest) got \(size)")
            } else {
                // No legal size strictly closer; ties go to the larger.
                let d = abs(size - request)
                let closer = stride(from: max(1, request - d), through: request + d, by: 1).first { s in
                    Rules.legal(s, block: block, notifications: notifications) && (abs(s - request) < d || (abs(s - request) == d && s > size))
                }
                #expect(closer == nil, "request \(request) got \(size) but \(closer ?? 0) is closer")
            }
            #expect(mdl.byteCount == size && mdl.byteOffset == 0 && mdl.pages.count == (size + 4095) / 4096)
            // The BDL read back from guest memory: LVI + 1 entries covering the MDL in order.
            let index = try #require(system.engineIndex(tag: 1, .render))
            let lvi = Int(system.sd16(index, HDARegister.SD.lvi))
            #expect(Int(system.sd32(index, HDARegister.SD.cbl)) == size)
            let bdlAddress = UInt64(system.sd32(index, HDARegister.SD.bdpu)) << 32 | UInt64(system.sd32(index, HDARegister.SD.bdpl))
            let entries = try #require(readRawBdl(system.platform, at: bdlAddress, count: lvi + 1))
            #expect(lvi >= 1 && lvi <= 255)
            var offset = 0
            var iocEnds: [Int] = []
            for e in entries {
                #expect(e.address % 128 == 0 && e.length > 0)
                #expect(e.address == mdl.physicalAddress(ofByte: offset))
                #expect(Int(e.address % 4096) + Int(e.length) <= 4096, "an entry crosses a scattered page")
                offset += Int(e.length)
                if e.interruptOnCompletion { iocEnds.append(offset) }
            }
            #expect(offset == size)
            switch notifications {
            case 0: #expect(iocEnds.isEmpty)
            case 1: #expect(iocEnds == [size])
            default: #expect(iocEnds == [size / 2, size])
            }
            if notifications == 0 { try client.freeDmaBuffer(a.handle) } else {
                try client.freeDmaBufferWithNotification(a.handle, bufferMdl: mdl, bufferSize: size)
            }
        }
    }

    @Test("A request of 0 or below, or a NotificationCount other than 1 or 2, is INVALID_PARAMETER and allocates nothing")
    func badSizesAndCounts() throws {
        let system = try FakeSystem()
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let baseline = system.allocatedPages
        for size in [0, -1, Int.min] {
            expectStatus(.invalidParameter) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: size) }
            expectStatus(.invalidParameter) { try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: size) }
        }
        for count in [0, 3, -1, Int.max] {
            expectStatus(.invalidParameter) { try client.allocateDmaBufferWithNotification(a.handle, notificationCount: count, requestedBufferSize: 4096) }
        }
        #expect(system.allocatedPages == baseline)
    }
}
