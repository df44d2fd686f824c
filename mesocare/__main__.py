from mesocare.entry import main

main()
