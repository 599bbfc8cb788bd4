"""The C sources of the firmware kit (package data, no Python): `heartzoo_preprocess.h/.c`, the
preprocessing library every kit copies unchanged; `heartzoo_host.c`, the host harness the agreement
tests and the benchmark run; and the templates of the kit's example `main.cc`, self-test and build
snippets. `heartzoo.export.firmware_kit` renders them for one model."""
