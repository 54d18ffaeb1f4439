# Host unit tests of the VT-x back end's pure parts: the EPT entry format,
# alone and through the shared page-table builder.
$(eval $(call unit_test,test_ept,tests/unit/test_ept.c arch/x86/vmx/ept.c \
	arch/x86/pagetable.c,-Iarch/x86/vmx))
# IA32_FEATURE_CONTROL: locked or not, with VMX allowed or not.
$(eval $(call unit_test,test_feature_control,tests/unit/test_feature_control.c \
	arch/x86/vmx/feature_control.c,-Iarch/x86/vmx))
