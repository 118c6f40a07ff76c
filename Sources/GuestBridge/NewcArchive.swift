/// A cpio archive in the "newc" format, the one the Linux kernel unpacks as an initramfs.
/// Linux unpacks concatenated archives in order, so a run appends a small archive with its
/// job to the guest's cached one.
public struct NewcArchive {
    /// The archive's bytes so far (no trailer until `finished()`).
    public private(set) var bytes: [UInt8] = []
    private var inode: UInt32 = 1

    /// An empty archive.
    public init() {}

    /// Adds a directory.
    public mutating func addDirectory(_ path: String) { add(path, mode: 0o040755, data: []) }

    /// Adds a regular file with `mode` permission bits.
    public mutating func addFile(_ path: String, data: [UInt8], mode: UInt32 = 0o644) { add(path, mode: 0o100000 | mode, data: data) }

    /// The archive with its trailer.
    public func finished() -> [UInt8] {
        var copy = self
        copy.add("TRAILER!!!", mode: 0, data: [], nlink: 1, ino: 0)
        return copy.bytes
    }

    private mutating func add(_ name: String, mode: UInt32, data: [UInt8], nlink: UInt32? = nil, ino: UInt32? = nil) {
        let nameBytes = Array(name.utf8) + [0]
        let fields: [UInt32] = [ino ?? inode, mode, 0, 0, nlink ?? (mode & 0o040000 != 0 ? 2 : 1), 0, UInt32(data.count),
                                0, 0, 0, 0, UInt32(nameBytes.count), 0]
        inode += 1
        bytes += Array("070701".utf8)
        for f in fields {
            let hex = String(f, radix: 16, uppercase: true)
            bytes += Array((String(repeating: "0", count: 8 - hex.count) + hex).utf8)
        }
        bytes += nameBytes
        pad()
        bytes += data
        pad()
    }

    private mutating func pad() { while bytes.count % 4 != 0 { bytes.append(0) } }
}
