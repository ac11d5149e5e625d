// Physical cores: the worker count for FMA-bound kernels (SMT siblings share the FMA units, so a
// second thread per core adds scheduling cost, not throughput). In the contract because the
// build-time tuner must time stages with the thread count the runtime will use.
#pragma once
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace kiln {

inline int physical_core_count() {
    std::set<std::pair<std::string, std::string>> cores;  // (package, core id)
    for (unsigned cpu = 0;; ++cpu) {
        const std::string topology = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
        std::ifstream package(topology + "physical_package_id"), core(topology + "core_id");
        std::string p, c;
        if (!(package >> p) || !(core >> c)) break;
        cores.insert({p, c});
    }
    if (!cores.empty()) return int(cores.size());
    return int(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace kiln
