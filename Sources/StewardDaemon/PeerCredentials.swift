#if canImport(Glibc)
import Glibc
#endif
import StewardControl

/// Who is at the other end of a Unix socket, as the kernel says: `SO_PEERCRED` for pid, uid and
/// gid, `SO_PEERGROUPS` for the supplementary groups the peer held when it connected.
struct PeerCredentials: Sendable, Equatable {
    var pid: pid_t
    var uid: uid_t
    var gid: gid_t
    var groups: [gid_t]

    /// The kernel's `SO_PEERGROUPS`, which Glibc does not name (Linux 4.13 and later).
    private static let peerGroupsOption: Int32 = 59

    init(socket descriptor: Int32) throws(SystemCallError) {
        var credentials = KernelCredentials()
        var length = socklen_t(MemoryLayout<KernelCredentials>.size)
        try systemCall("getsockopt(SO_PEERCRED)") { getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) }
        pid = credentials.pid
        uid = credentials.uid
        gid = credentials.gid
        groups = try Self.groups(of: descriptor)
    }

    /// The kernel's `struct ucred` (pid, uid, gid: three 32-bit fields), which Glibc hides
    /// behind `_GNU_SOURCE`; a Swift struct of three 32-bit fields has the same layout.
    private struct KernelCredentials {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
    }

    private static func groups(of descriptor: Int32) throws(SystemCallError) -> [gid_t] {
        var groups = [gid_t](repeating: 0, count: 64)
        while true {
            var length = socklen_t(groups.count * MemoryLayout<gid_t>.size)
            let rc = getsockopt(descriptor, SOL_SOCKET, peerGroupsOption, &groups, &length)
            if rc == 0 { return Array(groups.prefix(Int(length) / MemoryLayout<gid_t>.size)) }
            guard errno == ERANGE else { throw SystemCallError(call: "getsockopt(SO_PEERGROUPS)", errno: errno) }
            groups = [gid_t](repeating: 0, count: Int(length) / MemoryLayout<gid_t>.size + 1)
        }
    }
}
