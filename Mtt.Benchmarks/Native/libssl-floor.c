// What libssl itself costs the server per connection, with nothing of .NET around it (docs/benchmarks.md, "Churn and
// idle memory per connection"): N full TLS 1.3 handshakes between a server and a client SSL over memory BIOs, in one
// thread, each followed by a 64-byte echo, with the server context set up as the OpenSSL engine's (OpenSslContext.cs:
// ECDSA P-256, read-ahead with 64 KiB reads, SSL_MODE_RELEASE_BUFFERS, no session cache, `tickets` tickets).
//   cpu     the server side's thread CPU per handshake + echo + SSL_free (the client's calls are not timed)
//   memory  the heap each idle server SSL holds after the echo (mallinfo2), and with `sites` where it was allocated
//
//   gcc -O2 -o libssl-floor Mtt.Benchmarks/Native/libssl-floor.c -lssl -lcrypto
//   ./libssl-floor cpu 1000 <tickets>        ./libssl-floor memory 2000 <tickets> [sites]
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// Warm-up handshakes before measuring: OpenSSL fetches and caches its algorithms on first use.
#define WARMUP 50

static double thread_cpu(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static size_t heap_used(void) { struct mallinfo2 m = mallinfo2(); return m.uordblks + m.hblkhd; }
static void pump(BIO *from, BIO *to) { char b[16384]; int n; while ((n = BIO_read(from, b, sizeof b)) > 0) BIO_write(to, b, n); }

// Allocation sites: OpenSSL's allocator hooks get the file and line of every allocation.
#define MAX_SITES 4096
static struct { const char *file; int line; long live; } sites[MAX_SITES];
static long sites_before[MAX_SITES];
static int site_count;
typedef struct { size_t size; int site; } header;
static int site_of(const char *f, int l) {
  for (int i = 0; i < site_count; i++) if (sites[i].line == l && sites[i].file == f) return i;
  if (site_count == MAX_SITES) return MAX_SITES - 1;
  sites[site_count].file = f; sites[site_count].line = l; return site_count++;
}
static void *hooked_malloc(size_t n, const char *f, int l) {
  header *h = malloc(n + sizeof(header)); if (!h) return NULL;
  h->size = n; h->site = site_of(f, l); sites[h->site].live += n; return h + 1;
}
static void hooked_free(void *p, const char *f, int l) {
  (void)f; (void)l; if (!p) return;
  header *h = (header *)p - 1; sites[h->site].live -= h->size; free(h);
}
static void *hooked_realloc(void *p, size_t n, const char *f, int l) {
  if (!p) return hooked_malloc(n, f, l);
  header *h = (header *)p - 1; sites[h->site].live -= h->size;
  h = realloc(h, n + sizeof(header)); if (!h) return NULL;
  h->size = n; h->site = site_of(f, l); sites[h->site].live += n; return h + 1;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s cpu|memory <handshakes> <tickets> [sites]\n", argv[0]); return 2; }
  int memory = strcmp(argv[1], "memory") == 0, n = atoi(argv[2]), tickets = atoi(argv[3]);
  int by_site = argc > 4 && strcmp(argv[4], "sites") == 0;
  if (by_site) CRYPTO_set_mem_functions(hooked_malloc, hooked_realloc, hooked_free);

  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_sign(cert, key, EVP_sha256());

  SSL_CTX *server = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(server, TLS1_2_VERSION);
  SSL_CTX_set_options(server, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(server, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(server, 1);
  SSL_CTX_set_default_read_buffer_len(server, 64 * 1024);
  SSL_CTX_set_session_cache_mode(server, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(server, (size_t)tickets);
  SSL_CTX_use_certificate(server, cert);
  SSL_CTX_use_PrivateKey(server, key);
  SSL_CTX *client = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(client, SSL_VERIFY_NONE, NULL);

  double cpu = 0;
  size_t before = 0;
  for (int i = 0; i < n + WARMUP; i++) {
    int measured = i >= WARMUP;
    if (i == WARMUP) { malloc_trim(0); before = heap_used(); for (int s = 0; s < site_count; s++) sites_before[s] = sites[s].live; }
    SSL *sv = SSL_new(server), *cl = SSL_new(client);
    BIO *sr = BIO_new(BIO_s_mem()), *sw = BIO_new(BIO_s_mem()), *cr = BIO_new(BIO_s_mem()), *cw = BIO_new(BIO_s_mem());
    SSL_set_bio(sv, sr, sw);
    SSL_set_bio(cl, cr, cw);
    SSL_set_accept_state(sv);
    SSL_set_connect_state(cl);
    for (int flight = 0; flight < 10 && !(SSL_is_init_finished(sv) && SSL_is_init_finished(cl)); flight++) {
      SSL_do_handshake(cl); pump(cw, sr);
      double t = thread_cpu(); SSL_do_handshake(sv); if (measured) cpu += thread_cpu() - t;
      pump(sw, cr);
    }
    char message[64] = "echo";
    SSL_write(cl, message, sizeof message); pump(cw, sr);
    double t = thread_cpu();
    if (SSL_read(sv, message, sizeof message) != sizeof message || SSL_write(sv, message, sizeof message) != sizeof message) { fprintf(stderr, "echo failed\n"); return 1; }
    if (measured) cpu += thread_cpu() - t;
    pump(sw, cr);
    SSL_read(cl, message, sizeof message);
    SSL_free(cl);
    if (memory && measured) continue; // kept, idle, as a tunnel's SSL is between bursts
    t = thread_cpu(); SSL_free(sv); if (measured) cpu += thread_cpu() - t;
  }
  if (memory) {
    printf("tickets %d: %.0f bytes of heap per idle server SSL\n", tickets, (double)(heap_used() - before) / n);
    for (int s = 0; by_site && s < site_count; s++)
      if (sites[s].live - sites_before[s] > 8L * n) printf("%8.0f bytes  %s:%d\n", (double)(sites[s].live - sites_before[s]) / n, sites[s].file, sites[s].line);
  } else {
    printf("tickets %d: %.3f ms of server CPU per handshake + echo + free\n", tickets, cpu * 1000 / n);
  }
  return 0;
}
