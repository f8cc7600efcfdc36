/* SPDX-License-Identifier: MIT */
/*
 * map-memfd: the smallest useful libioas program.
 *
 * Connects to ioasd, allocates an IO address space, creates a sealed memfd,
 * fills it from this process, hands it to the daemon, maps it (the daemon
 * picks the IOVA) and prints where a device would see it. Everything is
 * released when the connection closes; the explicit teardown shows the calls.
 *
 *   map-memfd [SOCKET]      (default $IOASD_SOCKET or /run/ioasd/ioasd.sock)
 *
 * Build against an installed library:
 *   cc map-memfd.c $(pkg-config --cflags --libs libioas)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ioas.h>

#define REGION_SIZE (2u << 20)

static int fail(struct ioas_client *c, const char *what, int r)
{
	fprintf(stderr, "map-memfd: %s: %s%s%s\n", what, strerror(-r),
		c ? ": " : "", c ? ioas_client_last_error(c) : "");
	return EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	const char *socket = argc > 1 ? argv[1] : getenv("IOASD_SOCKET");
	struct ioas_client *c = NULL;
	struct ioas_memory_info info;
	uint64_t iova = 0, unmapped = 0;
	uint32_t ioas, mem;
	char err[256];
	void *p;
	int fd, r, status = EXIT_FAILURE;

	r = ioas_client_connect(socket, "map-memfd", &c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "map-memfd: %s\n", err);
		return EXIT_FAILURE;
	}
	printf("connected to %s (backend %s)\n", ioas_client_server(c),
	       ioas_client_backend(c));

	r = ioas_alloc(c, &ioas);
	if (r < 0) {
		status = fail(c, "ioas_alloc", r);
		goto out;
	}

	/* The memory is ours: fill it before the device sees it. */
	r = ioas_memfd_create("map-memfd", REGION_SIZE, &fd);
	if (r < 0) {
		status = fail(NULL, "ioas_memfd_create", r);
		goto out;
	}
	p = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		status = fail(NULL, "mmap", -errno);
		close(fd);
		goto out;
	}
	memset(p, 0xa5, REGION_SIZE);

	/* The daemon gets its own copy of the fd; ours stays ours. */
	r = ioas_memory_register(c, fd, 0, REGION_SIZE, &mem, &info);
	close(fd);
	if (r < 0) {
		status = fail(c, "ioas_memory_register", r);
		goto unmap_local;
	}
	printf("registered memory %u: %" PRIu64 " bytes of %s, page size %" PRIu64 "\n",
	       mem, info.length, info.kind, info.page_size);

	r = ioas_map(c, ioas, mem, 0, REGION_SIZE,
		     IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE, &iova);
	if (r < 0) {
		status = fail(c, "ioas_map", r);
		goto unmap_local;
	}
	printf("mapped at IOVA 0x%" PRIx64 " in IOAS %u\n", iova, ioas);

	r = ioas_unmap(c, ioas, iova, REGION_SIZE, &unmapped);
	if (r < 0) {
		status = fail(c, "ioas_unmap", r);
		goto unmap_local;
	}
	printf("unmapped %" PRIu64 " bytes\n", unmapped);

	r = ioas_memory_unregister(c, mem);
	if (r == 0)
		r = ioas_destroy(c, ioas);
	if (r < 0) {
		status = fail(c, "teardown", r);
		goto unmap_local;
	}
	status = EXIT_SUCCESS;
unmap_local:
	munmap(p, REGION_SIZE);
out:
	ioas_client_free(c);
	return status;
}
