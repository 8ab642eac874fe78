import FPGAJobs

extension Cluster {
    /// What each node's device is doing now, in the order of ``nodes``: asked of all nodes
    /// at once. A node whose status cannot be had (its worker is unreachable) is still
    /// listed, with the reason in ``DeviceStatus/problem``.
    public nonisolated func status() async -> [DeviceStatus] {
        await withTaskGroup(of: (Int, DeviceStatus).self) { group in
            for (index, node) in nodes.enumerated() {
                group.addTask { (index, await node.status()) }
            }
            var statuses = [DeviceStatus?](repeating: nil, count: nodes.count)
            for await (index, status) in group { statuses[index] = status }
            return statuses.compactMap { $0 }
        }
    }
}
