// Jobs, nodes in this process and program libraries are FPGAJobs' (shared with the worker
// process's server); a user of the cluster gets them with `import FPGACluster`.
@_exported import FPGAJobs
