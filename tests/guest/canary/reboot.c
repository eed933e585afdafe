/* Fault canary: the guest reboots itself in the middle of a test. -no-reboot makes QEMU exit; no exit marker
 * arrives: the verdict must be crash (the kernel under test went away), never a pass. */
#include "../ktap.h"
#include <sys/reboot.h>

int main(void)
{
	kt_plan(2);
	kt_ok("before_reboot");
	sync();
	reboot(RB_AUTOBOOT);
	printf("not ok 2 reboot_did_not_happen\n");
	return 1;
}
