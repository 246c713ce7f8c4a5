"""The data resource catalog: resources and their 信息项, classification and codes, the review
workflow, versions, change requests (article 17), topics, duplicate detection, Excel and search."""
