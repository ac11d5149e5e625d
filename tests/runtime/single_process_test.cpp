// The distributed interface of a binary built without MPI (single_process.cpp, compiled into this
// test alone): it runs alone, and refuses to be one of several processes a launcher started.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <kiln/distributed.hpp>
#include <kiln/error.hpp>

TEST_CASE("built without MPI, a process is refused as one of a launcher's several, accepted alone", "[runtime]") {
    ::unsetenv("OMPI_COMM_WORLD_SIZE");
    ::unsetenv("PMI_SIZE");
    ::unsetenv("PMIX_RANK");
    CHECK_NOTHROW(kiln::distributed::start());
    ::setenv("OMPI_COMM_WORLD_SIZE", "1", 1);  // mpirun -np 1: one process, as alone
    CHECK_NOTHROW(kiln::distributed::start());
    ::setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
    CHECK_THROWS_WITH(kiln::distributed::start(),
                      Catch::Contains("as one of 4 processes, but this binary was built without MPI"));
    ::unsetenv("OMPI_COMM_WORLD_SIZE");
    ::setenv("PMIX_RANK", "0", 1);  // a launcher that does not say the job's size
    CHECK_THROWS_WITH(kiln::distributed::start(), Catch::Contains("built without MPI"));
    ::unsetenv("PMIX_RANK");
    CHECK(kiln::distributed::size() == 1);
}
