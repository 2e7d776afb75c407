/* A UDP echo server for the runtime's -p .../udp test: answers each datagram on port
 * argv[1] with "echo:" and the datagram. Built static by the test, run in a container. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(argc > 1 ? atoi(argv[1]) : 5353) };
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("udp-echo"); return 1; }
  printf("listening\n");
  fflush(stdout);
  for (;;) {
    char buf[1500], out[1600];
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &len);
    if (n < 0) continue;
    int m = snprintf(out, sizeof out, "echo:%.*s", (int)n, buf);
    sendto(s, out, m, 0, (struct sockaddr *)&from, len);
  }
}
